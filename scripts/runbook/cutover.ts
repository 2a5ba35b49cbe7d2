/**
 * The GA cutover as checked steps, in the order of the customer's runbook with its gap closed: the
 * GA stream is restored from the pilot's backup, and the messages the pilot took after the backup
 * are copied over during a short publisher pause (only that delta happens inside the pause).
 *
 * How the stack's stream resource and the restore fit: JetStream refuses to restore over an
 * existing stream, and a standalone server's streams are not adopted by a cluster (docs/runbook.md),
 * so the stream resource of both stacks runs with `createIfMissing: false` (index.ts). The first
 * `pulumi up` of ga leaves the resource out (`--exclude` its URN) and only builds the nodes; the
 * runbook restores AKIRA_CDR at R1 (one copy written, fast), copies the delta, moves the
 * applications, and then runs `pulumi up` again with the resource, which adopts the restored
 * stream and raises it to `streamReplicas` with its changeReplicas (preflight, update, wait
 * current, canary). From then on the resource owns the stream like any other.
 */
import { join } from "node:path";
import { streamInfoRaw } from "../../components/jetstream/jsApiRequest";
import { waitReplicasCurrent } from "../../components/jetstream/replicas";
import { restoreStream } from "../../components/jetstream/restore";
import { listServers } from "../../components/jetstream/servers";
import { backupStream } from "../../components/jetstream/snapshot";
import { findStream, type StreamSnapshot, streamSnapshotInfo } from "../../components/jetstream/streams";
import type { ProcedureContext } from "./context";
import { checkAndRepairCopies } from "./copiesCheck";
import { copyMessages, streamIds } from "./copyMessages";
import type { JsonValue } from "./journal";
import { checkBackupSpace, checkPilotVersion, checkStackConfig } from "./preflight";
import {
  pausePublishersStep,
  pointApplicationsStep,
  requireHooks,
  resumePublishersStep,
} from "./publisherSteps";
import type { Step, StepRun } from "./steps";

type Obj = { [key: string]: JsonValue };

export interface PreflightOutput extends Obj {
  stream: string;
  nodeCount: number;
  streamReplicas: number;
  pilotMessages: number;
  pilotBytes: number;
  freeBytes: number;
  /** What the pilot runs (its /varz), checked against the staging stack's pin. */
  pilotVersion: string;
}

/** Where this run's backup of `stream` goes: one directory per run, named by the journal. */
export function backupDir(ctx: ProcedureContext, procedure: string, runId: string): string {
  return join(ctx.opts.stateDir, "backups", `${procedure}-${runId}`);
}

/** The id and count of a stream's last message, for "the two copies agree" checks. */
export async function tail(ctx: ProcedureContext, stack: string, stream: string) {
  const nc = await ctx.client(stack);
  const info = await streamSnapshotInfo(nc, stream);
  let lastId: string | undefined;
  if (info.state.lastSeq > 0) {
    const jsm = await nc.jetstreamManager();
    const m = await jsm.streams.getMessage(stream, { seq: info.state.lastSeq }).catch(() => undefined);
    lastId = m?.header?.get("Nats-Msg-Id");
  }
  return { messages: info.state.messages, lastSeq: info.state.lastSeq, lastId: lastId ?? "" };
}

/**
 * Waits until the GA stream has a leader and `replicas - 1` current replicas, then compares every
 * server's own copy (the leader's word alone is not enough on 2.9: nats-server#2955, #4695) and
 * rebuilds a copy left behind. `onCurrent` sees the snapshot before the comparison.
 */
async function replicasCurrentAndCopiesAgree(
  ctx: ProcedureContext,
  run: StepRun,
  stream: string,
  replicas: number,
  onCurrent?: (snap: StreamSnapshot) => void,
) {
  const nc = await ctx.client(ctx.opts.gaStack);
  const snap = await waitReplicasCurrent(nc, stream, replicas, { timeoutMs: ctx.opts.timeoutMs });
  onCurrent?.(snap);
  const { repaired } = await checkAndRepairCopies(nc, await ctx.system(ctx.opts.gaStack), stream, replicas, {
    repairTimeoutMs: ctx.opts.timeoutMs,
    log: (l) => run.log(l),
  });
  return { snap, repaired };
}

export function cutoverSteps(runId: string): Step<ProcedureContext>[] {
  return [
    {
      name: "preflight",
      runbook: "2-4",
      description:
        "Validate the ga and staging stack config (no placeholders, secrets set), check the hooks, that the pilot answers and that the disk holds a backup",
      async action(ctx, run) {
        const { gaStack, pilotStack, stateDir } = ctx.opts;
        const ga = await checkStackConfig(ctx.infra, gaStack, "cluster");
        const staging = await checkStackConfig(ctx.infra, pilotStack, "single");
        requireHooks(ctx.hooks);
        const version = await checkPilotVersion(ctx, staging, run);
        const pilot = await ctx.client(pilotStack);
        const space = await checkBackupSpace(pilot, ga.streamName, stateDir);
        run.log(
          `pilot ${ga.streamName}: ${space.messages} messages, ${space.streamBytes} bytes; ${space.freeBytes} bytes free under ${stateDir}`,
        );
        const out: PreflightOutput = {
          stream: ga.streamName,
          nodeCount: ga.nodeCount,
          streamReplicas: ga.streamReplicas,
          pilotMessages: space.messages,
          pilotBytes: space.streamBytes,
          freeBytes: space.freeBytes,
          pilotVersion: version.running,
        };
        return out;
      },
    },
    {
      name: "backup-pilot",
      runbook: "5",
      description: "Back up the pilot's stream (backup.json + stream.tar.s2, as `nats stream backup`)",
      async action(ctx, run) {
        const { stream } = run.output<PreflightOutput>("preflight");
        const dir = backupDir(ctx, "cutover", runId);
        // Durable consumers come along with their positions (acked up to where they were at the
        // backup): the applications' consumers carry on on GA instead of starting over.
        const r = await backupStream(await ctx.client(ctx.opts.pilotStack), stream, dir);
        run.log(
          `${r.messages} messages up to sequence ${r.lastSeq}, ${r.dataBytes} bytes, ${r.consumers} consumer(s) in ${dir}`,
        );
        return {
          dir,
          messages: r.messages,
          firstSeq: r.firstSeq,
          lastSeq: r.lastSeq,
          bytes: r.bytes,
          consumers: r.consumers,
        };
      },
      async check(_ctx, output) {
        const o = output as Obj;
        if (typeof o.lastSeq !== "number") throw new Error("the backup recorded no last sequence");
      },
    },
    {
      name: "provision-ga",
      runbook: "6",
      description:
        "pulumi up on the ga stack without its stream resource: the cluster nodes (AKIRA_CDR comes from the restore)",
      async action(ctx, run) {
        const endpoint = await ctx.infra.up(ctx.opts.gaStack, {
          stream: false,
          onOutput: (line) => run.log(line),
        });
        return { natsUrl: endpoint.natsUrl };
      },
    },
    {
      name: "cluster-formed",
      runbook: "7",
      description: "Every GA node answers `server list` and they agree on a meta leader",
      async action(ctx, run) {
        const { nodeCount } = run.output<PreflightOutput>("preflight");
        const endpoint = await ctx.infra.endpoint(ctx.opts.gaStack);
        const deadline = Date.now() + ctx.opts.timeoutMs;
        for (;;) {
          try {
            const servers = await listServers(endpoint.system, { expect: nodeCount, timeoutMs: 3000 });
            const leaders = new Set(servers.map((s) => s.metaLeader ?? ""));
            if (leaders.size === 1 && !leaders.has("")) {
              run.log(`${servers.map((s) => s.name).join(", ")}; meta leader ${[...leaders][0]}`);
              return { servers: servers.map((s) => s.name), metaLeader: [...leaders][0] as string };
            }
            if (Date.now() > deadline)
              throw new Error(`the GA nodes do not agree on a meta leader (${[...leaders].join(", ")})`);
          } catch (err) {
            if (Date.now() > deadline) throw err;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
      },
    },
    {
      name: "restore-into-ga",
      description: "Restore the pilot backup into the cluster at R1 and verify its state against backup.json",
      async precondition(ctx, run) {
        const { stream } = run.output<PreflightOutput>("preflight");
        const existing = await findStream(await ctx.client(ctx.opts.gaStack), stream);
        if (existing !== undefined) {
          throw new Error(
            `${stream} already exists on the ga stack (${existing.state.messages} messages): a restore never overwrites; if it is a half-finished restore, delete it (nats stream rm ${stream}) and run with --resume`,
          );
        }
      },
      async action(ctx, run) {
        const backup = run.output<Obj>("backup-pilot");
        const ga = await ctx.client(ctx.opts.gaStack);
        const r = await restoreStream(ga, backup.dir as string, {
          replicas: 1,
          systemConnection: await ctx.system(ctx.opts.gaStack),
          replicasTimeoutMs: ctx.opts.timeoutMs,
        });
        run.log(
          `${r.messages} messages up to sequence ${r.lastSeq} restored at R${r.replicas}${r.note ? ` (${r.note})` : ""}`,
        );
        // Messages published while the snapshot ran are no loss: the copy since the backup skips
        // those ids (Nats-Msg-Id).
        const { stream } = run.output<PreflightOutput>("preflight");
        const consumers = (await streamInfoRaw(ga, stream)).state.consumer_count ?? 0;
        return {
          messages: r.messages,
          firstSeq: r.firstSeq,
          lastSeq: r.lastSeq,
          replicas: r.replicas,
          publishedDuringSnapshot: r.publishedDuringSnapshot,
          consumers,
        };
      },
      async check(_ctx, output, run) {
        const backup = run.output<Obj>("backup-pilot");
        const o = output as Obj;
        if (typeof backup.consumers === "number" && (o.consumers as number) < backup.consumers) {
          throw new Error(
            `the restored stream has ${o.consumers} consumer(s), the pilot's backup ${backup.consumers}: the applications' consumers would start over; check the backup (akira-nats stream verify ${backup.dir})`,
          );
        }
        const [messages, lastSeq] = [o.messages as number, o.lastSeq as number];
        if (
          messages < (backup.messages as number) ||
          lastSeq < (backup.lastSeq as number) ||
          o.firstSeq !== backup.firstSeq
        ) {
          throw new Error(
            `restored ${messages} messages (sequences ${o.firstSeq}–${lastSeq}), the backup holds ${backup.messages} (${backup.firstSeq}–${backup.lastSeq}): the restored stream is left for inspection`,
          );
        }
      },
    },
    pausePublishersStep(),
    {
      name: "copy-since-backup",
      description:
        "Copy the pilot's messages after the backup's last sequence into GA, with their Nats-Msg-Id; verify both streams end with the same message",
      async action(ctx, run): Promise<Obj> {
        const { stream } = run.output<PreflightOutput>("preflight");
        const backup = run.output<Obj>("backup-pilot");
        if (ctx.opts.skipCopySinceBackup) {
          run.log("SABOTAGE: copy since backup switched off");
          return { copied: 0, sabotaged: true } satisfies Obj;
        }
        const fromSeq = (backup.lastSeq as number) + 1;
        const ga = await ctx.client(ctx.opts.gaStack);
        // Ids GA already took after the restore: only a resumed copy finds any.
        const { ids } = await streamIds(ga, stream, fromSeq);
        const r = await copyMessages(await ctx.client(ctx.opts.pilotStack), ga, stream, {
          fromSeq,
          skipIds: ids,
        });
        run.log(`${r.copied} copied, ${r.skipped} already there, up to pilot sequence ${r.cursor.lastSeq}`);
        return {
          copied: r.copied,
          skipped: r.skipped,
          duplicates: r.duplicates,
          pilotLastSeq: r.cursor.lastSeq,
        };
      },
      async check(ctx, output, run) {
        if ((output as Obj).sabotaged === true) return;
        const { stream } = run.output<PreflightOutput>("preflight");
        const [pilot, ga] = await Promise.all([
          tail(ctx, ctx.opts.pilotStack, stream),
          tail(ctx, ctx.opts.gaStack, stream),
        ]);
        if (pilot.messages !== ga.messages || pilot.lastId !== ga.lastId) {
          throw new Error(
            `GA holds ${ga.messages} messages ending with "${ga.lastId}", the pilot ${pilot.messages} ending with "${pilot.lastId}": publishers are still paused; find the difference before going on`,
          );
        }
        run.log(`both hold ${ga.messages} messages ending with ${ga.lastId || "(no id)"}`);
      },
    },
    pointApplicationsStep(
      {
        name: "point-apps-at-ga",
        description:
          "Point the applications at the GA URLs (operator hook; the natsUrl output of the ga stack)",
      },
      (ctx) => ctx.opts.gaStack,
    ),
    resumePublishersStep("Resume the publishers (operator hook), now writing to GA"),
    {
      name: "replicas-up",
      runbook: "8",
      description:
        "pulumi up on the ga stack with its stream resource: it adopts the restored stream and raises it to streamReplicas (wait current, canary); every server's copy is compared",
      async action(ctx, run) {
        const { stream, streamReplicas } = run.output<PreflightOutput>("preflight");
        await ctx.infra.up(ctx.opts.gaStack, { stream: true, onOutput: (line) => run.log(line) });
        const { snap, repaired } = await replicasCurrentAndCopiesAgree(ctx, run, stream, streamReplicas);
        return {
          replicas: snap.config.num_replicas,
          repaired,
          leader: snap.cluster?.leader ?? "",
          messages: snap.state.messages,
        };
      },
    },
    {
      name: "failover-test",
      runbook: "9",
      description: "Stop one node, verify that publishing and consuming go on, bring it back",
      async action(ctx, run) {
        return ctx.failover(ctx, await ctx.infra.endpoint(ctx.opts.gaStack), (l) => run.log(l));
      },
    },
    {
      name: "catch-up-check",
      runbook: "10",
      description:
        "Every replica is current with zero lag again, and every server's own copy equals the leader's (a copy left behind is rebuilt)",
      async action(ctx, run) {
        const { stream, streamReplicas } = run.output<PreflightOutput>("preflight");
        const started = Date.now();
        let catchUpMs = 0;
        const { snap, repaired } = await replicasCurrentAndCopiesAgree(
          ctx,
          run,
          stream,
          streamReplicas,
          (s) => {
            // Catch-up ends when the replicas are current; the copy comparison after it is not part of it.
            catchUpMs = Date.now() - started;
            run.log(
              `leader ${s.cluster?.leader}, ${s.cluster?.replicas.length ?? 0} replicas current, ${catchUpMs} ms`,
            );
          },
        );
        return { catchUpMs, repaired, leader: snap.cluster?.leader ?? "", messages: snap.state.messages };
      },
    },
    {
      name: "start-monitor",
      runbook: "11",
      description: "Start watching JetStream health, disk and consumer backlog (24 hours in production)",
      async action(ctx, run) {
        return ctx.monitor(ctx, await ctx.infra.endpoint(ctx.opts.gaStack), (l) => run.log(l));
      },
    },
  ];
}
