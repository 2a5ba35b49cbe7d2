/**
 * The rolling-upgrade rehearsal: a local 3-node JetStream cluster under live CDR traffic, every node
 * rolled one at a time through the very node script the VMs run (components/nodeScript.ts), in the
 * order the Pulumi program chains them, each gated on the full /healthz.
 *
 * The "upgrade" installs the same nats-server binary re-packaged under another version string
 * (2.9.10 → 2.9.11-local by default): it exercises everything the roll does — download, SHA-256
 * check, versioned install, symlink swap, lame duck, restart, health gate — but not a change of
 * server behaviour between versions.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { CLIENT_USER } from "../../components/natsConf";
import { createLocalCluster, randomSecrets } from "../local/localNats";
import { packageLocalRelease } from "../local/localRelease";
import {
  monitorGet,
  type RollProgress,
  rollNodes,
  runOn,
  scriptedNodes,
  scriptFor,
} from "../local/scriptedNodes";
import { CdrTraffic, type TrafficStats } from "../traffic/cdrTraffic";
import { verifyStream } from "../traffic/verify";

export interface RollingUpgradeOptions {
  /** Working directory: releases, rendered configs, one host root per node. */
  readonly dir: string;
  /** One loopback address per node. Default 127.0.0.2–127.0.0.4. */
  readonly hosts?: readonly string[];
  /** `random` (default) free ports, or `vm`: 4222/6222/8222 on every address as on the VMs. */
  readonly ports?: "vm" | "random";
  /** CDRs per second during the roll. Default 50. */
  readonly ratePerSec?: number;
  /** Traffic runs at least this long, and always until the roll is over plus one second. Default 0. */
  readonly minDurationSec?: number;
  /** Traffic runs until at least this many CDRs were published (and the roll is over). Default 0. */
  readonly minMessages?: number;
  /** Version running before the roll. Default `2.9.10`. */
  readonly fromVersion?: string;
  /** Version rolled out. Default `2.9.11-local`. */
  readonly toVersion?: string;
  /**
   * `lame_duck_grace_period` of the rehearsal's nodes. Default: the rendered config's (10 s, as
   * on the VMs). A shorter one shortens every node's lame duck; `lame_duck_duration` stays 30 s.
   */
  readonly lameDuckGracePeriod?: string;
  /** Stream to create (R3) and publish to. Default `AKIRA_CDR`. */
  readonly stream?: string;
  readonly onProgress?: (event: RollingUpgradeProgress) => void;
}

export type RollingUpgradeProgress =
  | { readonly phase: "cluster-up"; readonly nodes: readonly string[] }
  | { readonly phase: "traffic-started"; readonly ratePerSec: number }
  | (RollProgress & { readonly streamLeader?: string })
  | { readonly phase: "verified"; readonly stored: number; readonly lost: number };

export interface NodeRollReport {
  readonly name: string;
  readonly ok: boolean;
  /** Wall time of this node's script: lame duck, swap, start, health gate. */
  readonly ms: number;
  /** The stream's leader just before and just after this node rolled. */
  readonly streamLeaderBefore: string;
  readonly streamLeaderAfter: string;
  /** The script's error output when it failed. */
  readonly error?: string;
}

export interface RollingUpgradeReport {
  readonly ok: boolean;
  readonly fromVersion: string;
  readonly toVersion: string;
  readonly stream: string;
  readonly ratePerSec: number;
  /** In roll order. */
  readonly nodes: readonly NodeRollReport[];
  readonly totalMs: number;
  readonly published: number;
  readonly acked: number;
  /** Messages never acknowledged despite retries. Target 0. */
  readonly failedPublishes: number;
  /** Single attempts that timed out or errored and were retried. */
  readonly failedAttempts: number;
  /** Longest time without any ack while publishing. */
  readonly maxPublishGapMs: number;
  readonly stored: number;
  /** Acknowledged CDRs missing from the stream. Target 0. */
  readonly lost: number;
  readonly duplicates: number;
}

/** Written into `dir` at the end of a run. */
export const REPORT_FILE = "rolling-upgrade-report.json";

const DEFAULTS = {
  ratePerSec: 50,
  fromVersion: "2.9.10",
  toVersion: "2.9.11-local",
  stream: "AKIRA_CDR",
} as const;

/** Runs the rehearsal, writes {@link REPORT_FILE} into `dir`; the cluster is stopped before it returns. */
export async function rehearseRollingUpgrade(opts: RollingUpgradeOptions): Promise<RollingUpgradeReport> {
  const ratePerSec = opts.ratePerSec ?? DEFAULTS.ratePerSec;
  const fromVersion = opts.fromVersion ?? DEFAULTS.fromVersion;
  const toVersion = opts.toVersion ?? DEFAULTS.toVersion;
  const streamName = opts.stream ?? DEFAULTS.stream;
  const emit = opts.onProgress ?? (() => {});
  if (fromVersion === toVersion)
    throw new Error(`fromVersion and toVersion are both ${fromVersion}: nothing to roll`);

  const from = packageLocalRelease(opts.dir, fromVersion);
  const to = packageLocalRelease(opts.dir, toVersion);
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
      if (r.code !== 0)
        throw new Error(`starting ${nodes[i]?.name} with ${fromVersion} failed:\n${r.stderr}`);
    });
    await waitAllHealthy(nodes.map((n) => n.monitorUrl));
    emit({ phase: "cluster-up", nodes: nodes.map((n) => n.name) });

    nc = await connectNats({ ...target, reconnect: true, name: "akira-rehearsal-admin" });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: streamName,
      subjects: ["akira.cdr.>"],
      num_replicas: 3,
      duplicate_window: 120_000_000_000,
    });
    const leader = async (): Promise<string> =>
      (await jsm.streams.info(streamName).catch(() => undefined))?.cluster?.leader ?? "";

    const startedAt = Date.now();
    traffic = new CdrTraffic({ target, ratePerSec, consumer: false });
    await traffic.start();
    emit({ phase: "traffic-started", ratePerSec });
    await waitFor(
      () => (traffic as CdrTraffic).stats().acked >= Math.min(ratePerSec, 20),
      15_000,
      "first acks",
    );

    const leaders: Record<string, { before: string; after: string }> = {};
    const rolls = await rollNodes(
      nodes,
      (n) => scriptFor(n, to),
      async (p) => {
        const streamLeader = await leader();
        const entry = leaders[p.node] ?? { before: "", after: "" };
        leaders[p.node] = entry;
        if (p.phase === "node-start") entry.before = streamLeader;
        else entry.after = streamLeader;
        emit({ ...p, streamLeader });
      },
    );
    const rollMs = Date.now() - startedAt;
    const minMs = (opts.minDurationSec ?? 0) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(1000, minMs - rollMs)));
    const minMessages = opts.minMessages ?? 0;
    const rest = Math.max(0, minMessages - traffic.stats().published);
    await waitFor(
      () => (traffic as CdrTraffic).stats().published >= minMessages,
      Math.ceil((rest / ratePerSec) * 1000) + 30_000,
      `${minMessages} published CDRs`,
    );
    const stats: TrafficStats = await traffic.stop();
    traffic = undefined;
    const verified = await verifyStream(nc, streamName, stats.ackedIds);
    emit({ phase: "verified", stored: verified.stored, lost: verified.lost });

    const nodeReports: NodeRollReport[] = rolls.map((r) => ({
      name: r.name,
      ok: r.code === 0,
      ms: r.ms,
      streamLeaderBefore: leaders[r.name]?.before ?? "",
      streamLeaderAfter: leaders[r.name]?.after ?? "",
      ...(r.code === 0 ? {} : { error: r.stderr.trim() }),
    }));
    const allRolled = nodeReports.length === nodes.length && nodeReports.every((n) => n.ok);
    const report: RollingUpgradeReport = {
      ok: allRolled && stats.failed === 0 && verified.lost === 0 && verified.duplicates === 0,
      fromVersion,
      toVersion,
      stream: streamName,
      ratePerSec,
      nodes: nodeReports,
      totalMs: Date.now() - startedAt,
      published: stats.published,
      acked: stats.acked,
      failedPublishes: stats.failed,
      failedAttempts: stats.failedAttempts,
      maxPublishGapMs: stats.maxPublishGapMs,
      stored: verified.stored,
      lost: verified.lost,
      duplicates: verified.duplicates,
    };
    writeFileSync(join(opts.dir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    await traffic?.stop().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await Promise.all(nodes.map((n) => n.host.stop()));
  }
}

/** One line per node plus the totals, for the terminal. */
export function formatRollingUpgradeReport(r: RollingUpgradeReport): string {
  const lines = [
    `rolling upgrade ${r.fromVersion} -> ${r.toVersion} of ${r.nodes.length} node(s) under ${r.ratePerSec} CDR/s: ${r.ok ? "ok" : "FAILED"}`,
    ...r.nodes.map(
      (n, i) =>
        `  ${i + 1}. ${n.name}: ${n.ok ? "rolled" : "FAILED"} in ${(n.ms / 1000).toFixed(1)} s (stream leader ${n.streamLeaderBefore || "-"} -> ${n.streamLeaderAfter || "-"})${n.error === undefined ? "" : `\n     ${n.error.split("\n").at(-1)}`}`,
    ),
    `  publishes: ${r.published} sent, ${r.acked} acked, ${r.failedPublishes} failed (${r.failedAttempts} attempts retried), longest gap ${r.maxPublishGapMs} ms`,
    `  stream ${r.stream}: ${r.stored} stored, ${r.lost} lost, ${r.duplicates} duplicates`,
  ];
  return `${lines.join("\n")}\n`;
}

async function waitAllHealthy(monitorUrls: readonly string[], timeoutMs = 60_000): Promise<void> {
  for (const url of monitorUrls) {
    await waitFor(
      async () => (await monitorGet(url, "/healthz")).status === 200,
      timeoutMs,
      `${url}/healthz`,
    );
  }
}

async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`rolling-upgrade rehearsal: ${what} not reached within ${timeoutMs} ms`);
}
