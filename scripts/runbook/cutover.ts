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
import { waitFor } from "../../components/jetstream/waitFor";
import { type ConsumersOutput, carryConsumersStep } from "./consumerSteps";
import type { FailoverOutput, MonitorOutput, ProcedureContext } from "./context";
import { checkAndRepairCopies } from "./copiesCheck";
import { copyMessages, streamIds } from "./copyMessages";
import { checkBackupSpace, checkPilotVersion, checkStackConfig } from "./preflight";
import {
  pausePublishersStep,
  pointApplicationsStep,
  requireHooks,
  resumePublishersStep,
} from "./publisherSteps";
import { defineStep, type Step, type StepRun, stepKey } from "./steps";

export type PreflightOutput = {
  stream: string;
  nodeCount: number;
  streamReplicas: number;
  pilotMessages: number;
  pilotBytes: number;
  freeBytes: number;
  /** What the pilot runs (its /varz), checked against the staging stack's pin. */
  pilotVersion: string;
};

export type BackupOutput = {
  dir: string;
  messages: number;
  firstSeq: number;
  lastSeq: number;
  bytes: number;
  consumers: number;
};

export type RestoreOutput = {
  messages: number;
  firstSeq: number;
  lastSeq: number;
  replicas: number;
  publishedDuringSnapshot: number;
  consumers: number;
};

export type CopySinceBackupOutput = {
  copied: number;
  skipped: number;
  duplicates: number;
  pilotLastSeq: number;
  /** The rehearsal's sabotage switched the copy off. */
  sabotaged?: true;
};

export type ReplicasOutput = { replicas: number; repaired: string[]; leader: string; messages: number };
export type CatchUpOutput = { catchUpMs: number; repaired: string[]; leader: string; messages: number };

/** Every cutover step's key: later steps and the rehearsal's report read results through these. */
export const CUTOVER = {
  preflight: stepKey<PreflightOutput>("preflight"),
  backupPilot: stepKey<BackupOutput>("backup-pilot"),
  provisionGa: stepKey<{ natsUrl: string }>("provision-ga"),
  clusterFormed: stepKey<{ servers: string[]; metaLeader: string }>("cluster-formed"),
  restoreIntoGa: stepKey<RestoreOutput>("restore-into-ga"),
  copySinceBackup: stepKey<CopySinceBackupOutput>("copy-since-backup"),
  carryConsumers: stepKey<ConsumersOutput>("carry-consumer-positions"),
  replicasUp: stepKey<ReplicasOutput>("replicas-up"),
  failoverTest: stepKey<FailoverOutput>("failover-test"),
  catchUpCheck: stepKey<CatchUpOutput>("catch-up-check"),
  startMonitor: stepKey<MonitorOutput>("start-monitor"),
} as const;

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
    preflightStep(),
    backupPilotStep(runId),
    defineStep(CUTOVER.provisionGa, {
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
    }),
    clusterFormedStep(),
    restoreIntoGaStep(),
    pausePublishersStep(),
    copySinceBackupStep(),
    carryConsumersStep(
      CUTOVER.carryConsumers,
      "the pilot",
      "GA",
      (ctx) => [ctx.opts.pilotStack, ctx.opts.gaStack],
      CUTOVER.preflight,
      // The sabotage proves the loss checks after the move: this step would stop it before.
      (ctx) => (ctx.opts.skipCopySinceBackup ? "SABOTAGE: consumers left where they are" : undefined),
    ),
    pointApplicationsStep(
      {
        name: "point-apps-at-ga",
        description:
          "Point the applications at the GA URLs (operator hook; the natsUrl output of the ga stack)",
      },
      (ctx) => ctx.opts.gaStack,
    ),
    resumePublishersStep("Resume the publishers (operator hook), now writing to GA"),
    defineStep(CUTOVER.replicasUp, {
      runbook: "8",
      description:
        "pulumi up on the ga stack with its stream resource: it adopts the restored stream and raises it to streamReplicas (wait current, canary); every server's copy is compared",
      async action(ctx, run) {
        const { stream, streamReplicas } = run.output(CUTOVER.preflight);
        await ctx.infra.up(ctx.opts.gaStack, { stream: true, onOutput: (line) => run.log(line) });
        const { snap, repaired } = await replicasCurrentAndCopiesAgree(ctx, run, stream, streamReplicas);
        return {
          replicas: snap.config.num_replicas,
          repaired,
          leader: snap.cluster?.leader ?? "",
          messages: snap.state.messages,
        };
      },
    }),
    defineStep(CUTOVER.failoverTest, {
      runbook: "9",
      description: "Stop one node, verify that publishing and consuming go on, bring it back",
      async action(ctx, run) {
        return ctx.failover(ctx, await ctx.infra.endpoint(ctx.opts.gaStack), (l) => run.log(l));
      },
    }),
    catchUpCheckStep(),
    defineStep(CUTOVER.startMonitor, {
      runbook: "11",
      description: "Start watching JetStream health, disk and consumer backlog (24 hours in production)",
      async action(ctx, run) {
        return ctx.monitor(ctx, await ctx.infra.endpoint(ctx.opts.gaStack), (l) => run.log(l));
      },
    }),
  ];
}

function preflightStep() {
  return defineStep<ProcedureContext, PreflightOutput>(CUTOVER.preflight, {
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
      return {
        stream: ga.streamName,
        nodeCount: ga.nodeCount,
        streamReplicas: ga.streamReplicas,
        pilotMessages: space.messages,
        pilotBytes: space.streamBytes,
        freeBytes: space.freeBytes,
        pilotVersion: version.running,
      };
    },
  });
}

function backupPilotStep(runId: string) {
  return defineStep<ProcedureContext, BackupOutput>(CUTOVER.backupPilot, {
    runbook: "5",
    description: "Back up the pilot's stream (backup.json + stream.tar.s2, as `nats stream backup`)",
    async action(ctx, run) {
      const { stream } = run.output(CUTOVER.preflight);
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
  });
}

function clusterFormedStep() {
  return defineStep<ProcedureContext, { servers: string[]; metaLeader: string }>(CUTOVER.clusterFormed, {
    runbook: "7",
    description: "Every GA node answers `server list` and they agree on a meta leader",
    async action(ctx, run) {
      const { nodeCount } = run.output(CUTOVER.preflight);
      const endpoint = await ctx.infra.endpoint(ctx.opts.gaStack);
      let seen = "(none yet)";
      return waitFor(
        async () => {
          const servers = await listServers(endpoint.system, { expect: nodeCount, timeoutMs: 3000 });
          const leaders = new Set(servers.map((s) => s.metaLeader ?? ""));
          seen = [...leaders].join(", ") || "(none)";
          if (leaders.size !== 1 || leaders.has("")) return undefined;
          const metaLeader = [...leaders][0] as string;
          run.log(`${servers.map((s) => s.name).join(", ")}; meta leader ${metaLeader}`);
          return { servers: servers.map((s) => s.name), metaLeader };
        },
        {
          timeoutMs: ctx.opts.timeoutMs,
          intervalMs: 500,
          what: () => `the GA nodes to agree on a meta leader (last seen: ${seen})`,
        },
      );
    },
  });
}

function restoreIntoGaStep() {
  return defineStep<ProcedureContext, RestoreOutput>(CUTOVER.restoreIntoGa, {
    description: "Restore the pilot backup into the cluster at R1 and verify its state against backup.json",
    async precondition(ctx, run) {
      const { stream } = run.output(CUTOVER.preflight);
      const existing = await findStream(await ctx.client(ctx.opts.gaStack), stream);
      if (existing !== undefined) {
        throw new Error(
          `${stream} already exists on the ga stack (${existing.state.messages} messages): a restore never overwrites; if it is a half-finished restore, delete it (nats stream rm ${stream}) and run with --resume`,
        );
      }
    },
    async action(ctx, run) {
      const backup = run.output(CUTOVER.backupPilot);
      const ga = await ctx.client(ctx.opts.gaStack);
      const r = await restoreStream(ga, backup.dir, {
        replicas: 1,
        systemConnection: await ctx.system(ctx.opts.gaStack),
        replicasTimeoutMs: ctx.opts.timeoutMs,
      });
      run.log(
        `${r.messages} messages up to sequence ${r.lastSeq} restored at R${r.replicas}${r.note ? ` (${r.note})` : ""}`,
      );
      // Messages published while the snapshot ran are no loss: the copy since the backup skips
      // those ids (Nats-Msg-Id).
      const { stream } = run.output(CUTOVER.preflight);
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
    async check(_ctx, o, run) {
      const backup = run.output(CUTOVER.backupPilot);
      if (o.consumers < backup.consumers) {
        throw new Error(
          `the restored stream has ${o.consumers} consumer(s), the pilot's backup ${backup.consumers}: the applications' consumers would start over; check the backup (akira-nats stream verify ${backup.dir})`,
        );
      }
      if (o.messages < backup.messages || o.lastSeq < backup.lastSeq || o.firstSeq !== backup.firstSeq) {
        throw new Error(
          `restored ${o.messages} messages (sequences ${o.firstSeq}–${o.lastSeq}), the backup holds ${backup.messages} (${backup.firstSeq}–${backup.lastSeq}): the restored stream is left for inspection`,
        );
      }
    },
  });
}

function copySinceBackupStep() {
  return defineStep<ProcedureContext, CopySinceBackupOutput>(CUTOVER.copySinceBackup, {
    description:
      "Copy the pilot's messages after the backup's last sequence into GA, with their Nats-Msg-Id; verify both streams end with the same message",
    async action(ctx, run) {
      const { stream } = run.output(CUTOVER.preflight);
      const backup = run.output(CUTOVER.backupPilot);
      if (ctx.opts.skipCopySinceBackup) {
        run.log("SABOTAGE: copy since backup switched off");
        return { copied: 0, skipped: 0, duplicates: 0, pilotLastSeq: backup.lastSeq, sabotaged: true };
      }
      const fromSeq = backup.lastSeq + 1;
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
      if (output.sabotaged === true) return;
      const { stream } = run.output(CUTOVER.preflight);
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
  });
}

function catchUpCheckStep() {
  return defineStep<ProcedureContext, CatchUpOutput>(CUTOVER.catchUpCheck, {
    runbook: "10",
    description:
      "Every replica is current with zero lag again, and every server's own copy equals the leader's (a copy left behind is rebuilt)",
    async action(ctx, run) {
      const { stream, streamReplicas } = run.output(CUTOVER.preflight);
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
  });
}
