/**
 * The rolling-upgrade rehearsal: a local 3-node JetStream cluster under live CDR traffic, every node
 * rolled one at a time from one real nats-server release to another, through the very node script
 * the VMs run (components/cluster/nodeScript.ts), in the order the Pulumi program chains them, each gated
 * on its /healthz; then rolled back down where NATS's support policy allows it (one patch back), or
 * where the operator forces it. Versions in the report come from each node's /varz.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "nats";
import { rawOrDefault } from "../../components/config/config";
import { type ConnectionTarget, connectNats } from "../../components/jetstream/connection";
import { unsupportedVersionChange } from "../../components/jetstream/serverLines";
import { waitFor } from "../../components/jetstream/waitFor";
import type { LocalRelease } from "../local/localRelease";
import { rollNodes, type ScriptedNode, scriptFor } from "../local/scriptedNodes";
import { CdrTraffic, type TrafficStats } from "../traffic/cdrTraffic";
import { type VerifyResult, verifyStream } from "../traffic/verify";
import { type RollingCluster, scriptedCluster, startCluster, stopCluster } from "./rollingUpgradeCluster";
import {
  type NodeRollReport,
  REPORT_FILE,
  type RollingUpgradeProgress,
  type RollingUpgradeReport,
  type RollPhaseReport,
} from "./rollingUpgradeReport";
import { monitorVersion, type RehearsalBinary, rehearsalBinary } from "./serverVersions";

export { formatRollingUpgradeReport, REPORT_FILE, type RollingUpgradeProgress } from "./rollingUpgradeReport";

export interface RollingUpgradeOptions {
  /** Working directory: releases, rendered configs, one host root per node. */
  readonly dir: string;
  /** The nats-server binary the cluster starts on. */
  readonly fromNatsServer: string;
  /** The nats-server binary rolled out. */
  readonly toNatsServer: string;
  /** Roll an upgrade that skips a minor line (outside the support policy). Default false. */
  readonly force?: boolean;
  /** Roll back down even where the support policy does not cover it (across minors). Default false. */
  readonly forceDowngrade?: boolean;
  /** One loopback address per node. Default 127.0.0.2–127.0.0.4. */
  readonly hosts?: readonly string[];
  /** `random` (default) free ports, or `vm`: 4222/6222/8222 on every address as on the VMs. */
  readonly ports?: "vm" | "random";
  /** CDRs per second during the rolls. Default 50. */
  readonly ratePerSec?: number;
  /** Traffic runs at least this long, and always until the rolls are over plus one second. */
  readonly minDurationSec?: number;
  /** Traffic runs until at least this many CDRs were published (and the rolls are over). */
  readonly minMessages?: number;
  /** `lame_duck_grace_period` of the nodes. Default: the rendered config's (10 s, as on the VMs). */
  readonly lameDuckGracePeriod?: string;
  /** Stream to create (R3) and publish to. Default `AKIRA_CDR`. */
  readonly stream?: string;
  readonly onProgress?: (event: RollingUpgradeProgress) => void;
}

/**
 * Why this up-roll may not run, or undefined. Refused before anything starts: an upgrade that
 * skips a minor line without `force`, or two binaries of the same release.
 */
export function upgradeRefusal(
  from: RehearsalBinary,
  to: RehearsalBinary,
  force: boolean,
): string | undefined {
  if (from.version === to.version) {
    return `--from-nats-server and --to-nats-server are both nats-server ${from.version}: nothing to roll`;
  }
  const reason = unsupportedVersionChange(from.version, to.version);
  if (reason !== undefined && !force)
    return `refusing the rolling upgrade: ${reason}; add --force to roll it anyway`;
  return undefined;
}

/** Why the way back down is skipped, or undefined when it runs. */
export function downgradeSkip(from: string, to: string, forced: boolean): string | undefined {
  const reason = unsupportedVersionChange(to, from);
  if (reason === undefined || forced) return undefined;
  return `${reason}; add --force-downgrade to roll back down anyway`;
}

interface RollContext {
  readonly nodes: readonly ScriptedNode[];
  readonly traffic: CdrTraffic;
  readonly leader: () => Promise<string>;
  readonly emit: (e: RollingUpgradeProgress) => void;
}

/** Rolls every node to `release`, recording each node's version and the stream's leader around it. */
async function rollPhase(ctx: RollContext, from: string, release: LocalRelease): Promise<RollPhaseReport> {
  ctx.emit({ phase: "roll", from, to: release.version });
  const started = Date.now();
  const failedBefore = ctx.traffic.stats().failed;
  const seen: Record<string, { leaderBefore: string; leaderAfter: string; before: string; after: string }> =
    {};
  const rolls = await rollNodes(
    ctx.nodes,
    (n) => scriptFor(n, release),
    async (p) => {
      const node = ctx.nodes[p.index] as ScriptedNode;
      // After a node's roll the stream may need a moment for an election (seen for up to 9 s with
      // 2.9 and 2.10 nodes mixed): wait for a leader, bounded, rather than report a passing gap.
      const streamLeader =
        p.phase === "node-start"
          ? await ctx.leader()
          : await waitFor(async () => (await ctx.leader()) || undefined, {
              timeoutMs: 20_000,
              what: "a stream leader",
            }).catch(() => "");
      const version = (await monitorVersion(node.monitorUrl)) ?? "";
      const entry = seen[p.node] ?? { leaderBefore: "", leaderAfter: "", before: "", after: "" };
      seen[p.node] = entry;
      if (p.phase === "node-start") Object.assign(entry, { leaderBefore: streamLeader, before: version });
      else Object.assign(entry, { leaderAfter: streamLeader, after: version });
      ctx.emit({ ...p, streamLeader, version });
    },
  );
  const nodes: NodeRollReport[] = rolls.map((r) => ({
    name: r.name,
    ok: r.code === 0,
    versionBefore: seen[r.name]?.before ?? "",
    versionAfter: seen[r.name]?.after ?? "",
    ms: r.ms,
    streamLeaderBefore: seen[r.name]?.leaderBefore ?? "",
    streamLeaderAfter: seen[r.name]?.leaderAfter ?? "",
    ...(r.code === 0 ? {} : { error: r.stderr.trim() }),
  }));
  return {
    fromVersion: from,
    toVersion: release.version,
    nodes,
    failedPublishes: ctx.traffic.stats().failed - failedBefore,
    maxPublishGapMs: ctx.traffic.maxGapBetween(started, Date.now()),
    ms: Date.now() - started,
  };
}

const allRolled = (phase: RollPhaseReport, count: number) =>
  phase.nodes.length === count && phase.nodes.every((n) => n.ok && n.versionAfter === phase.toVersion);

/** The run's settings, and what it has open: closed at the end, however the run ends. */
interface UpgradeRun {
  readonly opts: RollingUpgradeOptions;
  readonly ratePerSec: number;
  readonly stream: string;
  readonly emit: (e: RollingUpgradeProgress) => void;
  nc?: NatsConnection;
  traffic?: CdrTraffic;
}

/** Runs the rehearsal, writes {@link REPORT_FILE} into `dir`; the cluster is stopped before it returns. */
export async function rehearseRollingUpgrade(opts: RollingUpgradeOptions): Promise<RollingUpgradeReport> {
  const run: UpgradeRun = {
    opts,
    ratePerSec: opts.ratePerSec ?? 50,
    stream: opts.stream ?? rawOrDefault({}, "streamName"),
    emit: opts.onProgress ?? (() => {}),
  };
  const { fromBin, toBin, skipDown } = checkedBinaries(opts);
  const cluster = await scriptedCluster(opts, fromBin, toBin);
  try {
    await startCluster(cluster, run.emit);
    const nc = await connectAdmin(run, cluster.target);
    const leader = await createStream(nc, run.stream);
    const startedAt = Date.now();
    const traffic = await startTraffic(run, cluster.target);
    const ctx: RollContext = { nodes: cluster.nodes, traffic, leader, emit: run.emit };
    const rolls = await rollUpAndDown(ctx, cluster, skipDown);
    const stats = await finishTraffic(run, traffic, startedAt);
    const verified = await verifyAtEnd(run, nc, stats.ackedIds);
    const report = reportOf(run, cluster, rolls, stats, verified, startedAt);
    writeFileSync(join(opts.dir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    await run.traffic?.stop().catch(() => undefined);
    await run.nc?.close().catch(() => undefined);
    await stopCluster(cluster);
  }
}

/** Both binaries with their versions; throws, before anything starts, when the up-roll is refused. */
function checkedBinaries(opts: RollingUpgradeOptions): {
  fromBin: RehearsalBinary;
  toBin: RehearsalBinary;
  skipDown: string | undefined;
} {
  const fromBin = rehearsalBinary(opts.fromNatsServer, "--from-nats-server");
  const toBin = rehearsalBinary(opts.toNatsServer, "--to-nats-server");
  const refused = upgradeRefusal(fromBin, toBin, opts.force === true);
  if (refused !== undefined) throw new Error(refused);
  const skipDown = downgradeSkip(fromBin.version, toBin.version, opts.forceDowngrade === true);
  return { fromBin, toBin, skipDown };
}

/** Kept on the run as soon as it is open, so the end closes it even when a later step throws. */
async function connectAdmin(run: UpgradeRun, target: ConnectionTarget): Promise<NatsConnection> {
  run.nc = await connectNats({ ...target, reconnect: true, name: "akira-rehearsal-admin" });
  return run.nc;
}

/** Creates the R3 stream the traffic publishes to; returns how to ask for its leader ("" for none). */
async function createStream(nc: NatsConnection, stream: string): Promise<() => Promise<string>> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({
    name: stream,
    subjects: ["akira.cdr.>"],
    num_replicas: 3,
    duplicate_window: 120e9,
  });
  return async () => (await jsm.streams.info(stream).catch(() => undefined))?.cluster?.leader ?? "";
}

/** Starts the CDR traffic and waits for its first acks, so the first roll already runs under load. */
async function startTraffic(run: UpgradeRun, target: ConnectionTarget): Promise<CdrTraffic> {
  const traffic = new CdrTraffic({ target, ratePerSec: run.ratePerSec, consumer: false });
  run.traffic = traffic;
  await traffic.start();
  run.emit({ phase: "traffic-started", ratePerSec: run.ratePerSec });
  await waitFor(async () => (traffic.stats().acked >= Math.min(run.ratePerSec, 20) ? true : undefined), {
    timeoutMs: 15_000,
    what: "the first acks",
  });
  return traffic;
}

interface Rolls {
  readonly up: RollPhaseReport;
  readonly rollback: RollPhaseReport | { skipped: string };
  /** The upgrade rolled every node, and so did the way down unless the support policy skipped it. */
  readonly ok: boolean;
}

/** Rolls every node up, then back down unless the upgrade failed or the way down is skipped. */
async function rollUpAndDown(
  ctx: RollContext,
  releases: { readonly from: LocalRelease; readonly to: LocalRelease },
  skipDown: string | undefined,
): Promise<Rolls> {
  const { from, to } = releases;
  const up = await rollPhase(ctx, from.version, to);
  if (!allRolled(up, ctx.nodes.length))
    return { up, rollback: { skipped: "the upgrade did not complete" }, ok: false };
  if (skipDown !== undefined) {
    ctx.emit({ phase: "roll-skipped", reason: skipDown });
    return { up, rollback: { skipped: skipDown }, ok: true };
  }
  const rollback = await rollPhase(ctx, to.version, from);
  return { up, rollback, ok: allRolled(rollback, ctx.nodes.length) };
}

/**
 * Keeps the traffic running for its minimum time and count, then stops it. The minimum time counts
 * from the traffic's start, and the traffic always outlasts the rolls by a second.
 */
async function finishTraffic(run: UpgradeRun, traffic: CdrTraffic, startedAt: number): Promise<TrafficStats> {
  const rollMs = Date.now() - startedAt;
  await new Promise((r) => setTimeout(r, Math.max(1000, (run.opts.minDurationSec ?? 0) * 1000 - rollMs)));
  const minMessages = run.opts.minMessages ?? 0;
  const rest = Math.max(0, minMessages - traffic.stats().published);
  await waitFor(async () => (traffic.stats().published >= minMessages ? true : undefined), {
    timeoutMs: Math.ceil((rest / run.ratePerSec) * 1000) + 30_000,
    what: `${minMessages} published CDRs`,
  });
  // Pausing first lets every CDR in flight get its final answer (an ack, usually after a retry
  // across the last restart): stopping straight away would count those as failed.
  await traffic.pause();
  const stats = await traffic.stop();
  run.traffic = undefined;
  return stats;
}

/** The stream read back against the acknowledged ids, or why it could not be read. */
async function verifyAtEnd(
  run: UpgradeRun,
  nc: NatsConnection,
  ackedIds: Iterable<string>,
): Promise<VerifyResult | Error> {
  // A stream that cannot be read back is a finding to report (a forced downgrade can leave one).
  const verified = await verifyStream(nc, run.stream, ackedIds).catch((err: Error) => err);
  if (!(verified instanceof Error))
    run.emit({ phase: "verified", stored: verified.stored, lost: verified.lost });
  return verified;
}

/** Every field of {@link REPORT_FILE}; a stream that could not be read back leaves its counts null. */
function reportOf(
  run: UpgradeRun,
  cluster: RollingCluster,
  rolls: Rolls,
  stats: TrafficStats,
  verified: VerifyResult | Error,
  startedAt: number,
): RollingUpgradeReport {
  const read = verified instanceof Error ? undefined : verified;
  return {
    ok: rolls.ok && stats.failed === 0 && read?.lost === 0 && read.duplicates === 0,
    fromVersion: cluster.from.version,
    toVersion: cluster.to.version,
    stream: run.stream,
    ratePerSec: run.ratePerSec,
    nodes: rolls.up.nodes,
    rollback: rolls.rollback,
    totalMs: Date.now() - startedAt,
    published: stats.published,
    acked: stats.acked,
    failedPublishes: stats.failed,
    failedAttempts: stats.failedAttempts,
    maxPublishGapMs: stats.maxPublishGapMs,
    stored: read?.stored ?? null,
    lost: read?.lost ?? null,
    duplicates: read?.duplicates ?? null,
    ...(verified instanceof Error ? { readError: verified.message } : {}),
  };
}
