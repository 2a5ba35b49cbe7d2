/**
 * `akira-nats rehearse`: the whole cutover, an unplanned failover and the rollback on one machine,
 * with live CDR traffic from start to end. Local nats-server processes stand in for the pilot
 * (127.0.0.1, the staging renderer's config) and the three GA nodes (127.0.0.2–4, the GA
 * renderer's), and the SAME step code as `akira-nats cutover` / `rollback` runs against them
 * through {@link LocalInfra}; the operator hooks drive the CDR traffic (pause, resume, repoint).
 *
 * Loss is measured twice: after the cutover (GA must hold every CDR acknowledged so far) and at the
 * end (the pilot must hold every CDR acknowledged during the whole run).
 */

import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { nanos, RetentionPolicy, StorageType } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { CLIENT_PORT, CLUSTER_PORT, MONITOR_PORT } from "../../components/natsConf";
import { issueAuthority } from "../../components/tls/certificates";
import {
  createLocalCluster,
  createLocalPilot,
  type LocalDeployment,
  randomSecrets,
} from "../local/localNats";
import type { ConsumersOutput } from "../runbook/consumerSteps";
import { ProcedureContext } from "../runbook/context";
import { CUTOVER, cutoverSteps } from "../runbook/cutover";
import type { OperatorHooks } from "../runbook/infra";
import { LocalInfra, localEndpoint } from "../runbook/localInfra";
import { RESUME_PUBLISHERS } from "../runbook/publisherSteps";
import { jsonLinesReporter, teeReporter, textReporter } from "../runbook/reporters";
import { ROLLBACK, rollbackSteps } from "../runbook/rollback";
import { failoverRunner, monitorStarter } from "../runbook/runners";
import {
  outputOf,
  type ProcedureResult,
  runSteps,
  type StepReporter,
  type StepResult,
} from "../runbook/steps";
import { DEFAULT_DURABLE } from "../traffic/cdrConsumer";
import { CdrTraffic } from "../traffic/cdrTraffic";
import { verifyStream } from "../traffic/verify";
import { portsFree } from "./ports";
import { REHEARSAL_STREAM, REHEARSAL_SUBJECTS, rehearsalConfig } from "./rehearsalConfig";
import { type CarriedFloor, formatReport, REPORT_FILE, type RehearsalReport, TIMELINE_FILE } from "./report";
import { describeBinaries, rehearsalBinary, varzVersion } from "./serverVersions";
import { renderTimelineSvg, type TimelineStep } from "./timeline";

export interface RehearsalOptions {
  /** CDRs to publish at least. Default 3000. */
  readonly messages?: number;
  /** Keep publishing at least this long (ms); wins over `messages` when longer. Default none. */
  readonly durationMs?: number;
  /** CDRs per second. Default 100. */
  readonly ratePerSec?: number;
  /** Where report.json, timeline.svg and the servers' directories go. Default `.rehearsal`. */
  readonly reportDir?: string;
  /** Leave the final servers (pilot) running and put URLs, user, password and pids in the report. */
  readonly keepRunning?: boolean;
  /** `vm`: 4222/6222/8222 as on the VMs; `random`; `auto` (default): vm when those are free. */
  readonly ports?: "auto" | "vm" | "random";
  /** JSON lines instead of text progress. */
  readonly json?: boolean;
  /** Where progress goes. Default stdout. */
  readonly write?: (text: string) => void;
  /** Sabotage, to prove the rehearsal catches a loss: skip the copy of the messages since the backup. */
  readonly skipCopySinceBackup?: boolean;
  /** The pilot's nats-server binary. Default: `$NATS_SERVER_BIN`, else the pinned line. */
  readonly pilotNatsServer?: string;
  /** The GA nodes' nats-server binary. Default: `$NATS_SERVER_BIN`, else the pinned line. */
  readonly gaNatsServer?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records step results with their procedure's name, for the report and the timeline. */
function recorder(procedure: string, into: TimelineStep[]): StepReporter {
  return {
    stepEnd(_i, _t, _s, r: StepResult) {
      into.push({
        name: `${procedure}:${r.name}`,
        startedAt: r.startedAt,
        durationMs: r.durationMs,
        ok: r.ok,
      });
    },
  };
}

/** The operator's side in the rehearsal: the CDR traffic is "the applications". */
function trafficHooks(
  traffic: CdrTraffic,
  deployments: Readonly<Record<string, LocalDeployment>>,
  pointedAt: { stack: string },
): OperatorHooks {
  return {
    async pausePublishers() {
      await traffic.pause();
    },
    async resumePublishers() {
      traffic.resume();
    },
    async pointApplicationsAt(natsUrl: string) {
      const found = Object.entries(deployments).find(([, d]) => d.servers === natsUrl);
      if (found === undefined) throw new Error(`no rehearsal deployment serves ${natsUrl}`);
      await traffic.repoint(localEndpoint(found[1]).client);
      pointedAt.stack = found[0];
    },
    missing: () => [],
  };
}

export async function rehearse(opts: RehearsalOptions = {}): Promise<RehearsalReport> {
  const write = opts.write ?? ((t: string) => process.stdout.write(t));
  const messages = opts.messages ?? 3000;
  const rate = opts.ratePerSec ?? 100;
  const reportDir = resolve(opts.reportDir ?? ".rehearsal");
  const say = (line: string) => {
    if (opts.json) write(`${JSON.stringify({ event: "rehearsal", line })}\n`);
    else write(`${line}\n`);
  };
  const pilotBinary = rehearsalBinary(opts.pilotNatsServer, "--pilot-nats-server");
  const gaBinary = rehearsalBinary(opts.gaNatsServer, "--ga-nats-server");
  const serversDir = join(reportDir, "servers");
  if (existsSync(serversDir)) rmSync(serversDir, { recursive: true, force: true });
  mkdirSync(serversDir, { recursive: true });

  const secrets = randomSecrets();
  const gaHosts = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];
  const mode =
    opts.ports === "vm" || opts.ports === "random"
      ? opts.ports
      : (await portsFree([
            ...[CLIENT_PORT, MONITOR_PORT].map((port) => ({ host: "127.0.0.1", port })),
            ...gaHosts.flatMap((host) =>
              [CLIENT_PORT, CLUSTER_PORT, MONITOR_PORT].map((port) => ({ host, port })),
            ),
          ]))
        ? "vm"
        : "random";
  const pilot = await createLocalPilot({
    dir: serversDir,
    secrets,
    ports: mode,
    maxFileStoreBytes: 1024 ** 3,
    natsServerBin: pilotBinary.bin,
  });
  // The GA nodes serve clients over TLS, as on Hetzner: the same renderer, an authority and a
  // certificate per node issued the same way, so the whole cutover and rollback run encrypted.
  const ga = await createLocalCluster({
    dir: serversDir,
    secrets,
    hosts: gaHosts,
    ports: mode,
    maxFileStoreBytes: 1024 ** 3,
    natsServerBin: gaBinary.bin,
    tls: { authority: issueAuthority("akira-ga client TLS authority (rehearsal)", 30) },
  });
  // A pilot kept running after the report must outlive this process and its terminal's Ctrl-C.
  if (opts.keepRunning === true) for (const n of pilot.nodes) n.detach = true;
  const config = rehearsalConfig(secrets, "127.0.0.1", ga.nodes.length, pilotBinary.version);
  // Whatever ends this process (Ctrl-C, a closed pipe, a crash) also ends its nats-servers.
  const killAll = () => {
    for (const n of [...pilot.nodes, ...ga.nodes]) {
      if (n.running && n.pid !== undefined) {
        try {
          process.kill(n.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    killAll();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("exit", killAll);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const infra = new LocalInfra({ pilot, ga, config: { staging: config.staging, ga: config.ga } });
  const stream = REHEARSAL_STREAM;
  const steps: TimelineStep[] = [];
  const failures: string[] = [];
  const startedAt = Date.now();
  let traffic: CdrTraffic | undefined;
  let ctx: ProcedureContext | undefined;
  let keep = false;
  const pointedAt = { stack: "staging" };

  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const t0 = Date.now();
    try {
      const r = await fn();
      steps.push({ name: `rehearsal:${name}`, startedAt: t0, durationMs: Date.now() - t0, ok: true });
      return r;
    } catch (err) {
      steps.push({ name: `rehearsal:${name}`, startedAt: t0, durationMs: Date.now() - t0, ok: false });
      failures.push(`${name}: ${(err as Error).message}`);
      say(`rehearsal step ${name} FAILED: ${(err as Error).message}`);
      return undefined;
    }
  };
  const waitPublished = async (n: number, untilMs?: number) => {
    while (
      traffic !== undefined &&
      (traffic.stats().published < n || (untilMs !== undefined && Date.now() < untilMs))
    ) {
      await sleep(100);
    }
  };
  const procedure = async (name: string, run: () => Promise<ProcedureResult>) => {
    const r = await run();
    if (!r.ok) failures.push(`${name} stopped at ${r.failure?.step}: ${r.failure?.message}`);
    return r;
  };
  const reporterFor = (name: string) =>
    teeReporter(
      opts.json ? jsonLinesReporter(write, name) : textReporter(write, `${name}: `),
      recorder(name, steps),
    );

  let gaCheck: { lost: number } | undefined;
  let final: Awaited<ReturnType<typeof verifyStream>> | undefined;
  let cutover: ProcedureResult | undefined;
  let rollback: ProcedureResult | undefined;
  let pilotVersion: string | null = null;
  let gaVersion: string | null = null;
  let endFloor: number | undefined;
  try {
    say(`rehearsal: pilot ${pilot.servers}, GA ${ga.servers} (${mode} ports), ${messages} CDRs at ${rate}/s`);
    say(describeBinaries(pilotBinary, gaBinary));
    const started = await phase("start-pilot", async () => {
      await pilot.start();
      await pilot.waitHealthy();
      const nc = await connectNats(localEndpoint(pilot).client);
      try {
        const jsm = await nc.jetstreamManager();
        await jsm.streams.add({
          name: stream,
          subjects: REHEARSAL_SUBJECTS,
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          num_replicas: 1,
          duplicate_window: nanos(120_000),
        });
      } finally {
        await nc.close();
      }
      pilotVersion = await varzVersion(pilot);
      traffic = new CdrTraffic({
        target: localEndpoint(pilot).client,
        ratePerSec: rate,
        consumer: { stream, deliverPolicy: "all" },
      });
      await traffic.start();
      return true;
    });
    if (started === undefined || traffic === undefined) throw new Error("the pilot did not start");
    const t = traffic;
    const minEnd = opts.durationMs === undefined ? undefined : startedAt + opts.durationMs;
    const share = (f: number) => Math.max(1, Math.floor(messages * f));
    await waitPublished(
      share(0.25),
      minEnd === undefined ? undefined : startedAt + (minEnd - startedAt) * 0.25,
    );

    ctx = new ProcedureContext(
      infra,
      trafficHooks(t, { staging: pilot, ga }, pointedAt),
      {
        pilotStack: "staging",
        gaStack: "ga",
        stateDir: join(reportDir, "state"),
        timeoutMs: 120_000,
        skipCopySinceBackup: opts.skipCopySinceBackup,
      },
      failoverRunner({
        traffic: t,
        downForMs: 2000,
        // The unplanned failure: SIGKILL, no lame duck, no goodbye to the cluster.
        stop: async (node) => {
          await nodeByName(ga, node.name).kill();
        },
        start: async (node) => {
          await nodeByName(ga, node.name).start();
        },
      }),
      monitorStarter((url, s) => `akira-nats monitor -s ${url} --stream ${s}`),
    );
    rmSync(join(reportDir, "state"), { recursive: true, force: true });
    const runId = new Date(startedAt).toISOString().replace(/[:.]/g, "-");
    const c = ctx;
    cutover = await procedure("cutover", () =>
      runSteps({
        procedure: "cutover",
        steps: cutoverSteps(runId),
        ctx: c,
        reporter: reporterFor("cutover"),
      }),
    );
    gaVersion = await varzVersion(ga);
    if (!cutover.ok) {
      // Like an operator would: publishers must not stay paused while someone investigates.
      t.resume();
    } else {
      gaCheck = await phase("verify-ga", async () => {
        const nc = await c.client("ga");
        const r = await verifyStream(nc, stream, new Set(t.stats().ackedIds));
        say(`GA after cutover: ${r.stored} stored, ${r.lost} acked CDRs missing, ${r.duplicates} duplicates`);
        if (r.lost > 0)
          throw new Error(
            `${r.lost} acknowledged CDRs are missing on GA (e.g. ${r.lostSample.slice(0, 3).join(", ")})`,
          );
        return { lost: r.lost };
      });
      if (gaCheck === undefined) gaCheck = { lost: await lostOn(c, "ga", t) };
      await waitPublished(
        share(0.6),
        minEnd === undefined ? undefined : startedAt + (minEnd - startedAt) * 0.6,
      );
      rollback = await procedure("rollback", () =>
        runSteps({
          procedure: "rollback",
          steps: rollbackSteps(runId),
          ctx: c,
          reporter: reporterFor("rollback"),
        }),
      );
      if (!rollback.ok) t.resume();
    }
    await waitPublished(messages, minEnd);
    // Pausing first lets every CDR in flight get its final answer (an ack, usually after a retry
    // across the last restart): stopping straight away would cut those retries short.
    await t.pause();
    const stats = await t.stop();
    // Where the applications write now holds the stream that must be complete.
    const where = pointedAt.stack;
    final = await phase("verify-final", async () => {
      const nc = await c.client(where);
      const r = await verifyStream(nc, stream, stats.ackedIds);
      say(
        `final stream on ${where}: ${r.stored} stored, ${r.lost} acked CDRs missing, ${r.duplicates} duplicates`,
      );
      if (r.lost > 0)
        throw new Error(
          `${r.lost} acknowledged CDRs are missing (e.g. ${r.lostSample.slice(0, 3).join(", ")})`,
        );
      if (r.duplicates > 0) throw new Error(`${r.duplicates} CDRs are stored twice`);
      return r;
    });
    if (final === undefined) {
      const nc = await c.client(where);
      final = await verifyStream(nc, stream, stats.ackedIds);
    }
    endFloor = await ackFloorOn(c, where, stream);
    keep = opts.keepRunning === true;
  } catch (err) {
    failures.push((err as Error).message);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (traffic !== undefined) await traffic.stop().catch(() => undefined);
    await ctx?.close();
    if (!keep) {
      await ga.stop();
      await pilot.stop();
    } else {
      await ga.stop();
    }
    process.off("exit", killAll);
  }

  const stats = traffic?.stats();
  const failover = outputOf(cutover, CUTOVER.failoverTest);
  const lost = Math.max(final?.lost ?? 0, gaCheck?.lost ?? 0);
  const endedAt = Date.now();
  const report: RehearsalReport = {
    ok: failures.length === 0 && lost === 0 && (final?.duplicates ?? 0) === 0 && steps.every((s) => s.ok),
    stream,
    pilotVersion,
    gaVersion,
    gaClientUrls: ga.servers.split(","),
    pilotClientUrls: pilot.servers.split(","),
    consumersCarried: outputOf(cutover, CUTOVER.restoreIntoGa)?.consumers ?? null,
    consumerAckFloors: {
      durable: DEFAULT_DURABLE,
      cutover: carriedFloors(outputOf(cutover, CUTOVER.carryConsumers)),
      rollback: carriedFloors(outputOf(rollback, ROLLBACK.carryConsumers)),
      atEnd: endFloor ?? null,
      redelivered: stats?.consumedDuplicates ?? 0,
    },
    published: stats?.published ?? 0,
    acked: stats?.acked ?? 0,
    failed: stats?.failed ?? 0,
    stored: final?.stored ?? 0,
    lost,
    duplicates: final?.duplicates ?? 0,
    publisherPauseMs: outputOf(cutover, RESUME_PUBLISHERS)?.pauseMs ?? null,
    rollbackPauseMs: outputOf(rollback, RESUME_PUBLISHERS)?.pauseMs ?? null,
    maxPublishGapMs: stats?.maxPublishGapMs ?? 0,
    failoverUnavailableMs: failover?.unavailableMs ?? null,
    catchUpMs: failover?.catchUpMs ?? outputOf(cutover, CUTOVER.catchUpCheck)?.catchUpMs ?? null,
    durationMs: endedAt - startedAt,
    ratePerSec: rate,
    ports: mode,
    failures,
    steps: steps.map((s) => ({ name: s.name, durationMs: s.durationMs, ok: s.ok })),
    ...(keep
      ? {
          servers: pilot.servers,
          user: pilot.user,
          password: secrets.clientPassword,
          pids: pilot.nodes.map((n) => n.pid ?? 0),
        }
      : {}),
  };
  mkdirSync(reportDir, { recursive: true });
  writeFileSync(join(reportDir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(
    join(reportDir, TIMELINE_FILE),
    renderTimelineSvg({
      title: `akira-nats rehearsal: ${report.published} CDRs at ${rate}/s, ${report.lost} lost, cutover pause ${report.publisherPauseMs ?? "-"} ms`,
      samples: stats?.samples ?? [],
      steps,
      startMs: startedAt,
      endMs: endedAt,
    }),
  );
  if (opts.json) write(`${JSON.stringify({ event: "report", ...report })}\n`);
  else write(formatReport(report, reportDir));
  return report;
}

/** The traffic durable's carry: its ack floor before, and where the same message sits after. */
function carriedFloors(out: ConsumersOutput | undefined): CarriedFloor | null {
  const c = out?.consumers.find((p) => p.durable === DEFAULT_DURABLE);
  if (c === undefined) return null;
  return { before: c.sourceAckFloor, after: c.destinationStartSeq - 1, nextMessage: c.nextId };
}

/** The traffic durable's ack floor where the applications read at the end. */
async function ackFloorOn(ctx: ProcedureContext, stack: string, stream: string): Promise<number | undefined> {
  const jsm = await (await ctx.client(stack)).jetstreamManager();
  const info = await jsm.consumers.info(stream, DEFAULT_DURABLE).catch(() => undefined);
  return info?.ack_floor.stream_seq;
}

function nodeByName(d: LocalDeployment, name: string) {
  const n = d.nodes.find((x) => x.spec.name === name);
  if (n === undefined) throw new Error(`no GA node named ${name}`);
  return n;
}

async function lostOn(ctx: ProcedureContext, stack: string, t: CdrTraffic): Promise<number> {
  const r = await verifyStream(await ctx.client(stack), REHEARSAL_STREAM, new Set(t.stats().ackedIds)).catch(
    () => undefined,
  );
  return r?.lost ?? 0;
}
