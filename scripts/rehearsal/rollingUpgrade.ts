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
import { CLIENT_USER } from "../../components/cluster/natsConf";
import { rawOrDefault } from "../../components/config/config";
import { connectNats } from "../../components/jetstream/connection";
import { unsupportedVersionChange } from "../../components/jetstream/serverLines";
import { waitFor } from "../../components/jetstream/waitFor";
import { createLocalCluster, randomSecrets } from "../local/localNats";
import { type LocalRelease, packageLocalRelease } from "../local/localRelease";
import {
  monitorGet,
  rollNodes,
  runOn,
  type ScriptedNode,
  scriptedNodes,
  scriptFor,
} from "../local/scriptedNodes";
import { CdrTraffic } from "../traffic/cdrTraffic";
import { verifyStream } from "../traffic/verify";
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

/** Runs the rehearsal, writes {@link REPORT_FILE} into `dir`; the cluster is stopped before it returns. */
export async function rehearseRollingUpgrade(opts: RollingUpgradeOptions): Promise<RollingUpgradeReport> {
  const ratePerSec = opts.ratePerSec ?? 50;
  const streamName = opts.stream ?? rawOrDefault({}, "streamName");
  const emit = opts.onProgress ?? (() => {});
  const fromBin = rehearsalBinary(opts.fromNatsServer, "--from-nats-server");
  const toBin = rehearsalBinary(opts.toNatsServer, "--to-nats-server");
  const refused = upgradeRefusal(fromBin, toBin, opts.force === true);
  if (refused !== undefined) throw new Error(refused);
  const skipDown = downgradeSkip(fromBin.version, toBin.version, opts.forceDowngrade === true);

  const from = packageLocalRelease(opts.dir, fromBin.version, fromBin.bin);
  const to = packageLocalRelease(opts.dir, toBin.version, toBin.bin);
  const secrets = randomSecrets();
  const cluster = await createLocalCluster({
    dir: join(opts.dir, "render"),
    secrets,
    ...(opts.hosts === undefined ? {} : { hosts: opts.hosts }),
    ports: opts.ports ?? "random",
  });
  const grace = opts.lameDuckGracePeriod;
  const nodes = scriptedNodes(cluster, join(opts.dir, "hosts")).map((n) => ({
    ...n,
    confText:
      grace === undefined
        ? n.confText
        : n.confText.replace(/^lame_duck_grace_period: .*$/m, `lame_duck_grace_period: "${grace}"`),
  }));
  const target = { servers: nodes.map((n) => n.url), user: CLIENT_USER, password: secrets.clientPassword };
  let nc: NatsConnection | undefined;
  let traffic: CdrTraffic | undefined;
  try {
    const first = await Promise.all(nodes.map((n) => runOn(n, scriptFor(n, from))));
    first.forEach((r, i) => {
      if (r.code !== 0) throw new Error(`starting ${nodes[i]?.name} on ${from.version} failed:\n${r.stderr}`);
    });
    for (const n of nodes) {
      await waitFor(
        async () => ((await monitorGet(n.monitorUrl, "/healthz")).status === 200 ? true : undefined),
        {
          timeoutMs: 60_000,
          what: `${n.name}/healthz`,
        },
      );
    }
    emit({ phase: "cluster-up", nodes: nodes.map((n) => n.name), version: from.version });

    nc = await connectNats({ ...target, reconnect: true, name: "akira-rehearsal-admin" });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: streamName,
      subjects: ["akira.cdr.>"],
      num_replicas: 3,
      duplicate_window: 120e9,
    });
    const leader = async (): Promise<string> =>
      (await jsm.streams.info(streamName).catch(() => undefined))?.cluster?.leader ?? "";

    const startedAt = Date.now();
    traffic = new CdrTraffic({ target, ratePerSec, consumer: false });
    await traffic.start();
    emit({ phase: "traffic-started", ratePerSec });
    const t = traffic;
    await waitFor(async () => (t.stats().acked >= Math.min(ratePerSec, 20) ? true : undefined), {
      timeoutMs: 15_000,
      what: "the first acks",
    });
    const ctx: RollContext = { nodes, traffic: t, leader, emit };
    const up = await rollPhase(ctx, from.version, to);
    let rollback: RollPhaseReport | { skipped: string };
    if (!allRolled(up, nodes.length)) rollback = { skipped: "the upgrade did not complete" };
    else if (skipDown !== undefined) {
      rollback = { skipped: skipDown };
      emit({ phase: "roll-skipped", reason: skipDown });
    } else rollback = await rollPhase(ctx, to.version, from);

    const rollMs = Date.now() - startedAt;
    await new Promise((r) => setTimeout(r, Math.max(1000, (opts.minDurationSec ?? 0) * 1000 - rollMs)));
    const minMessages = opts.minMessages ?? 0;
    const rest = Math.max(0, minMessages - t.stats().published);
    await waitFor(async () => (t.stats().published >= minMessages ? true : undefined), {
      timeoutMs: Math.ceil((rest / ratePerSec) * 1000) + 30_000,
      what: `${minMessages} published CDRs`,
    });
    // Pausing first lets every CDR in flight get its final answer (an ack, usually after a retry
    // across the last restart): stopping straight away would count those as failed.
    await t.pause();
    const stats = await t.stop();
    traffic = undefined;
    // A stream that cannot be read back is a finding to report (a forced downgrade can leave one).
    const verified = await verifyStream(nc, streamName, stats.ackedIds).catch((err: Error) => err);
    const read = verified instanceof Error ? undefined : verified;
    if (read !== undefined) emit({ phase: "verified", stored: read.stored, lost: read.lost });

    const downOk = "skipped" in rollback ? skipDown !== undefined : allRolled(rollback, nodes.length);
    const report: RollingUpgradeReport = {
      ok:
        allRolled(up, nodes.length) &&
        downOk &&
        stats.failed === 0 &&
        read?.lost === 0 &&
        read.duplicates === 0,
      fromVersion: from.version,
      toVersion: to.version,
      stream: streamName,
      ratePerSec,
      nodes: up.nodes,
      rollback,
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
    writeFileSync(join(opts.dir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    await traffic?.stop().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await Promise.all(nodes.map((n) => n.host.stop()));
  }
}
