/**
 * The failover test (runbook steps 9–10): with CDRs published and consumed all along, stop one
 * node of the cluster (by default the stream leader, the hardest case), prove that publishing and
 * consuming carry on, start it again, wait until its replica is current, and read the stream back
 * to prove that every acknowledged CDR is stored exactly once.
 */

import type { NatsConnection } from "nats";
import { type ConnectionTarget, connectNats } from "../../components/jetstream/connection";
import { AkiraNatsError } from "../../components/jetstream/errors";
import { pingServers } from "../../components/jetstream/servers";
import { jsApi, type StreamSnapshot, streamSnapshotInfo } from "../../components/jetstream/streams";
import { CLIENT_ACCOUNT } from "../../components/natsConf";
import { newRunId } from "../traffic/cdrRecord";
import { CdrTraffic, type TrafficStats } from "../traffic/cdrTraffic";
import { verifyStream } from "../traffic/verify";
import { copyLagsBehind, gracefulHandOff, resolveHost } from "./failoverNode";
import { type CommandResult, runShell, substitute } from "./shellCommand";

/** How a node is stopped or started: a shell template (`{node}`, `{host}`) or a function. */
export type NodeAction =
  | string
  | ((node: { readonly name: string; readonly host?: string }) => Promise<void>);

export const DEFAULT_STOP = "ssh root@{host} systemctl stop nats-server";
export const DEFAULT_START = "ssh root@{host} systemctl start nats-server";
/** SIGUSR2 is nats-server's lame-duck signal (`nats-server --signal ldm`). */
export const DEFAULT_LAME_DUCK = "ssh root@{host} systemctl kill -s SIGUSR2 nats-server";

export interface FailoverTestOptions {
  /** The applications' connection (client user), every node's URL. */
  readonly target: ConnectionTarget;
  /**
   * The system-account connection: resolves `{host}` (`$SYS.REQ.SERVER.PING`) and steps the
   * meta leader down with `--graceful`. Optional when neither is needed.
   */
  readonly systemTarget?: ConnectionTarget;
  readonly stream: string;
  /** Default {@link DEFAULT_STOP}. */
  readonly stop?: NodeAction;
  /** Default {@link DEFAULT_START}. */
  readonly start?: NodeAction;
  /** Default: the current stream leader. */
  readonly node?: string;
  /** Addresses for `{host}` by node name; wins over the servers' own answer. */
  readonly hosts?: Readonly<Record<string, string>>;
  /** Move stream, consumer and meta leadership away and lame-duck the node before the stop. */
  readonly graceful?: boolean;
  /** Used with `graceful`. Default {@link DEFAULT_LAME_DUCK}. */
  readonly lameDuck?: NodeAction;
  /**
   * Test CDRs go to `<prefix>.<run id>.<customer>`. Default: the stream's first `x.>` subject +
   * `.failover-test`, e.g. `akira.cdr.failover-test`.
   */
  readonly subjectPrefix?: string;
  /** Default 200 CDRs/s. */
  readonly ratePerSec?: number;
  /** How long the node stays down once publishing is proven to work without it. Default 3000 ms. */
  readonly downForMs?: number;
  /** How long publish and consume may stall after the stop before the test fails. Default 20 000 ms. */
  readonly availabilityTimeoutMs?: number;
  /** How long the restarted node may take to be current again. Default 120 000 ms. */
  readonly recoveryTimeoutMs?: number;
  /** How long the restarted node's copy may take to match the others'. Default 15 000 ms. */
  readonly copyTimeoutMs?: number;
  /** The stream's account, for the copy check. Default `AKIRA`. */
  readonly account?: string;
  /** Bound for each stop/start/lame-duck command. Default 120 000 ms. */
  readonly commandTimeoutMs?: number;
  /**
   * Traffic that is already running (the rehearsal's): used instead of starting a publisher and
   * consumer of its own; it is neither stopped nor verified against the whole stream here.
   */
  readonly traffic?: CdrTraffic;
  readonly onProgress?: (p: FailoverProgress) => void;
}

export interface FailoverProgress {
  readonly phase:
    | "preflight"
    | "traffic"
    | "hand-off"
    | "stop"
    | "down"
    | "start"
    | "catch-up"
    | "verify"
    | "done";
  readonly message: string;
}

/** What kind of problem the failover test found: callers branch on this, never on the wording. */
export type FailoverProblemCode =
  /** A stop/start/lame-duck action or command failed. */
  | "command-failed"
  | "publish-stalled"
  | "consume-stalled"
  | "not-current"
  /** The restarted node's own copy never matched the others' (`copyAgrees: false`). */
  | "copy-diverged"
  /** The read-back found acknowledged CDRs missing from the stream. */
  | "acked-missing"
  | "duplicates-stored"
  /** The stream could not be read back. */
  | "read-failed"
  | "publish-failed";

export interface FailoverProblem {
  readonly code: FailoverProblemCode;
  /** For people: what is wrong and what to do. */
  readonly message: string;
}

export interface FailoverReport {
  readonly ok: boolean;
  /** Why the test failed; empty when `ok`. */
  readonly problems: readonly FailoverProblem[];
  readonly stream: string;
  readonly node: string;
  readonly host?: string;
  readonly graceful: boolean;
  readonly nodeWasLeader: boolean;
  /** The stream leader elected after the node (the leader) went down; absent for a follower. */
  readonly newLeader?: string;
  /** From the stop command to a stream leader other than the node. */
  readonly leaderElectedMs?: number;
  readonly published: number;
  readonly acked: number;
  /** Messages never acknowledged after every retry. */
  readonly failed: number;
  readonly failedAttempts: number;
  readonly serverDuplicates: number;
  /** Acknowledged CDRs missing from the stream; `null` when the stream could not be read. */
  readonly lost: number | null;
  /** CDRs stored more than once. */
  readonly duplicates: number | null;
  readonly stored: number | null;
  readonly consumed: number;
  readonly consumedDuplicates: number;
  /** Acks and consumed messages between the stop and the start. */
  readonly ackedWhileDown: number;
  readonly consumedWhileDown: number;
  /** Longest time without any ack during the whole test. */
  readonly maxPublishGapMs: number;
  /** Longest time without any ack between the stop command and the start command. */
  readonly unavailableMs: number;
  readonly downMs: number;
  /** From the start command's end to the node's replica being current with zero lag. */
  readonly catchUpMs: number | null;
  readonly recovered: boolean;
  /**
   * The restarted node's own copy was seen equal to the others' (`null`: not checked, needs the
   * system account). The leader calling a replica current is not enough on 2.9.
   */
  readonly copyAgrees: boolean | null;
  readonly commands: readonly CommandResult[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runFailoverTest(opts: FailoverTestOptions): Promise<FailoverReport> {
  const progress = (phase: FailoverProgress["phase"], message: string) =>
    opts.onProgress?.({ phase, message });
  const nc = await connectNats({ ...opts.target, reconnect: true, name: "akira-nats failover-test" });
  const sysNc =
    opts.systemTarget === undefined
      ? undefined
      : await connectNats({
          ...opts.systemTarget,
          reconnect: true,
          name: "akira-nats failover-test (system)",
        });
  try {
    return await runWith(nc, sysNc, opts, progress);
  } finally {
    await sysNc?.close();
    await nc.close();
  }
}

async function runWith(
  nc: NatsConnection,
  sysNc: NatsConnection | undefined,
  opts: FailoverTestOptions,
  progress: (phase: FailoverProgress["phase"], message: string) => void,
): Promise<FailoverReport> {
  const stream = opts.stream;
  const before = await preflight(nc, stream);
  const leader = before.cluster?.leader as string;
  const members = [leader, ...(before.cluster?.replicas.map((r) => r.name) ?? [])];
  const node = opts.node ?? leader;
  if (!members.includes(node)) {
    throw new AkiraNatsError(
      "bad-node",
      `node ${node} holds no replica of ${stream} (its replicas are on ${members.join(", ")}): pass one of them with --node, or leave --node out to take the leader`,
    );
  }
  if (opts.graceful && sysNc === undefined) {
    throw new AkiraNatsError(
      "system-account",
      "--graceful steps the JetStream meta leader down, which needs the system account: pass --system-password (or NATS_SYSTEM_PASSWORD)",
    );
  }
  const needsHost = [
    opts.stop ?? DEFAULT_STOP,
    opts.start ?? DEFAULT_START,
    opts.graceful ? (opts.lameDuck ?? DEFAULT_LAME_DUCK) : "",
  ].some((a) => typeof a === "string" && a.includes("{host}"));
  const host = opts.hosts?.[node] ?? (needsHost ? await resolveHost(sysNc, node) : undefined);
  const nodeRef = { name: node, host };
  const commands: CommandResult[] = [];
  const problems: FailoverProblem[] = [];
  const problem = (code: FailoverProblemCode, message: string) => problems.push({ code, message });
  const act = async (what: string, action: NodeAction): Promise<boolean> => {
    if (typeof action === "function") {
      try {
        await action(nodeRef);
        return true;
      } catch (err) {
        problem("command-failed", `${what} ${node} failed: ${(err as Error).message}`);
        return false;
      }
    }
    const r = await runShell(substitute(action, { node, host }), opts.commandTimeoutMs ?? 120_000);
    commands.push(r);
    if (r.exitCode === 0) return true;
    problem(
      "command-failed",
      `${what} command for ${node} ${r.timedOut ? "timed out" : `exited with ${r.exitCode ?? r.signal}`}: ${r.command}${r.output ? ` (${r.output.split("\n").slice(-3).join(" | ")})` : ""}`,
    );
    return false;
  };

  // Each run publishes under its own subjects, so reading back checks exactly this run's CDRs.
  const runId = newRunId();
  const base =
    opts.subjectPrefix ?? testSubjectPrefix(stream, before.config.subjects as string[] | undefined);
  const prefix = `${base}.${runId}`;
  const own = opts.traffic === undefined;
  const durable = `akira-failover-test-${runId}`;
  const traffic =
    opts.traffic ??
    new CdrTraffic({
      target: { ...opts.target, name: "akira-nats failover-test traffic" },
      subjectPrefix: prefix,
      ratePerSec: opts.ratePerSec ?? 200,
      runId,
      consumer: { stream, durable, deliverPolicy: "new" },
    });
  if (own) {
    progress(
      "traffic",
      `publishing ${opts.ratePerSec ?? 200} CDRs/s to ${prefix}.* and consuming them (durable ${durable})`,
    );
    await traffic.start();
  }
  let report: FailoverReport | undefined;
  try {
    await waitFor(
      "traffic to flow",
      15_000,
      () => traffic.stats().acked > 0 && (!own || traffic.stats().consumed > 0),
    );

    if (opts.graceful) {
      await gracefulHandOff(nc, sysNc as NatsConnection, stream, own ? durable : undefined, node, (m) =>
        progress("hand-off", m),
      );
      progress("hand-off", `lame-duck mode on ${node}`);
      if (await act("lame-duck", opts.lameDuck ?? DEFAULT_LAME_DUCK)) {
        await waitNodeGone(sysNc as NatsConnection, node, opts.commandTimeoutMs ?? 120_000, (m) =>
          progress("hand-off", m),
        );
      }
    }

    const atStop = traffic.stats();
    const stopAt = Date.now();
    progress("stop", `stopping ${node}${host ? ` (${host})` : ""}`);
    const stopped = await act("stop", opts.stop ?? DEFAULT_STOP);

    let newLeader: string | undefined;
    let leaderElectedMs: number | undefined;
    const watchLeader = async () => {
      if (newLeader !== undefined || node !== leader) return;
      const l = await streamLeader(nc, stream);
      if (l !== undefined && l !== node) {
        newLeader = l;
        leaderElectedMs = Date.now() - stopAt;
        progress("down", `${stream} is led by ${l} now (${leaderElectedMs} ms after the stop)`);
      }
    };
    if (stopped) {
      progress("down", `${node} is down: checking that publish and consume carry on`);
      const availableBy = Date.now() + (opts.availabilityTimeoutMs ?? 20_000);
      const minAcks = Math.max(10, Math.ceil((opts.ratePerSec ?? 200) / 2));
      for (;;) {
        await watchLeader();
        const s = traffic.stats();
        const publishing = s.acked - atStop.acked >= minAcks;
        const consuming = !own || s.consumed - atStop.consumed > 0;
        if (publishing && consuming && Date.now() - stopAt >= (opts.downForMs ?? 3000)) break;
        if (Date.now() > availableBy) {
          if (!publishing) {
            problem(
              "publish-stalled",
              `publishing stopped while ${node} was down: ${s.acked - atStop.acked} acks in ${Date.now() - stopAt} ms (${s.failedAttempts - atStop.failedAttempts} failed attempts); the stream lost its quorum`,
            );
          }
          if (!consuming)
            problem(
              "consume-stalled",
              `consuming stopped while ${node} was down: nothing received in ${Date.now() - stopAt} ms`,
            );
          break;
        }
        await sleep(200);
      }
    }
    const whileDown = traffic.stats();
    const startAt = Date.now();
    progress("start", `starting ${node}`);
    const started = await act("start", opts.start ?? DEFAULT_START);

    let catchUpMs: number | null = null;
    if (started) {
      progress("catch-up", `waiting for ${node}'s replica of ${stream} to be current`);
      catchUpMs = await waitCurrent(nc, stream, node, opts.recoveryTimeoutMs ?? 120_000);
      if (catchUpMs === null) {
        problem(
          "not-current",
          `${node}'s replica of ${stream} was not current within ${opts.recoveryTimeoutMs ?? 120_000} ms after the start: check its log, then \`akira-nats server check stream --stream ${stream}\``,
        );
      } else {
        progress("catch-up", `${node} is current again after ${catchUpMs} ms`);
      }
    }

    const unavailableMs = traffic.maxGapBetween(stopAt, startAt);
    let stats: TrafficStats;
    let ids: ReadonlySet<string>;
    if (own) {
      stats = await traffic.stop();
      ids = stats.ackedIds;
    } else {
      stats = traffic.stats();
      ids = new Set(stats.ackedIds);
    }
    let copyAgrees: boolean | null = null;
    if (sysNc !== undefined && catchUpMs !== null) {
      progress("catch-up", `comparing ${node}'s copy of ${stream} with the others`);
      const behind = await copyLagsBehind(
        sysNc,
        opts.account ?? CLIENT_ACCOUNT,
        stream,
        node,
        before.config.num_replicas,
        opts.copyTimeoutMs ?? 15_000,
      );
      copyAgrees = behind === undefined;
      if (behind !== undefined) {
        problem(
          "copy-diverged",
          `${node} reports its replica current, but its copy of ${stream} never matched the others (${behind}): the restarted replica diverged (nats-server 2.9, nats-server#2955/#4695); rebuild it with \`nats stream cluster peer-remove ${stream} ${node}\``,
        );
      }
    }
    progress("verify", `reading ${stream} back to check ${ids.size} acknowledged CDRs`);
    let verified: { stored: number; lost: number; duplicates: number } | undefined;
    try {
      verified = await verifyStream(nc, stream, ids, own ? { filterSubject: `${prefix}.>` } : {});
      if (verified.lost > 0)
        problem("acked-missing", `${verified.lost} acknowledged CDRs are missing from ${stream}`);
      if (verified.duplicates > 0)
        problem("duplicates-stored", `${verified.duplicates} CDRs are stored more than once in ${stream}`);
    } catch (err) {
      problem("read-failed", `could not read ${stream} back: ${(err as Error).message}`);
    }
    if (stats.failed > 0)
      problem("publish-failed", `${stats.failed} publishes were never acknowledged, even after retrying`);
    if (own) await traffic.deleteConsumer().catch(() => undefined);

    report = {
      ok: problems.length === 0,
      problems,
      stream,
      node,
      host,
      graceful: opts.graceful ?? false,
      nodeWasLeader: node === leader,
      newLeader,
      leaderElectedMs,
      published: stats.published,
      acked: stats.acked,
      failed: stats.failed,
      failedAttempts: stats.failedAttempts,
      serverDuplicates: stats.serverDuplicates,
      lost: verified?.lost ?? null,
      duplicates: verified?.duplicates ?? null,
      stored: verified?.stored ?? null,
      consumed: stats.consumed,
      consumedDuplicates: stats.consumedDuplicates,
      ackedWhileDown: whileDown.acked - atStop.acked,
      consumedWhileDown: whileDown.consumed - atStop.consumed,
      maxPublishGapMs: stats.maxPublishGapMs,
      unavailableMs,
      downMs: startAt - stopAt,
      catchUpMs,
      recovered: catchUpMs !== null,
      copyAgrees,
      commands,
    };
    progress(
      "done",
      report.ok
        ? "failover test passed"
        : `failover test FAILED: ${problems.map((p) => p.message).join("; ")}`,
    );
    return report;
  } finally {
    if (own && report === undefined) {
      await traffic.stop().catch(() => undefined);
      await traffic.deleteConsumer().catch(() => undefined);
    }
  }
}

/** The stream's leader, `undefined` while there is none; a short timeout, as it runs while nodes fail. */
async function streamLeader(nc: NatsConnection, stream: string): Promise<string | undefined> {
  const info = await jsApi<{ cluster?: { leader?: string } }>(nc, `STREAM.INFO.${stream}`, undefined, {
    stream,
    timeoutMs: 1000,
  }).catch(() => undefined);
  return info?.cluster?.leader;
}

/** The stream must exist, be replicated (R ≥ 3) and healthy before a node is taken away. */
async function preflight(nc: NatsConnection, stream: string): Promise<StreamSnapshot> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const snap = await streamSnapshotInfo(nc, stream);
    const r = snap.config.num_replicas;
    if (snap.cluster === undefined || r < 3) {
      throw new AkiraNatsError(
        "not-replicated",
        `${stream} has ${r} replica(s)${snap.cluster === undefined ? " on a standalone server" : ""}: stopping a node would stop the stream; run the failover test once it has 3 replicas`,
      );
    }
    const notCurrent = snap.cluster.replicas.filter((x) => x.offline || !x.current).map((x) => x.name);
    if (
      snap.cluster.leader !== undefined &&
      notCurrent.length === 0 &&
      snap.cluster.replicas.length === r - 1
    ) {
      return snap;
    }
    if (Date.now() > deadline) {
      throw new AkiraNatsError(
        "not-healthy",
        `${stream} is not healthy before the test (leader ${snap.cluster.leader ?? "none"}, not current: ${notCurrent.join(", ") || "none"}): fix it first (akira-nats server check stream --stream ${stream})`,
      );
    }
    await sleep(250);
  }
}

/** `akira.cdr.>` → `akira.cdr.failover-test`, so test CDRs stay apart from production ones. */
export function testSubjectPrefix(stream: string, subjects: readonly string[] | undefined): string {
  const wildcard = subjects?.find((s) => s.endsWith(".>"));
  if (wildcard === undefined) {
    throw new AkiraNatsError(
      "no-subject",
      `${stream} has no subject ending in ".>" (${(subjects ?? []).join(", ") || "none"}) to put test CDRs under: pass --subject-prefix`,
    );
  }
  return `${wildcard.slice(0, -2)}.failover-test`;
}

/** Milliseconds until `node` leads the stream or is a current replica with zero lag; null on timeout. */
async function waitCurrent(
  nc: NatsConnection,
  stream: string,
  node: string,
  timeoutMs: number,
): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const snap = await streamSnapshotInfo(nc, stream).catch(() => undefined);
    const c = snap?.cluster;
    if (c?.leader !== undefined) {
      if (c.leader === node) return Date.now() - started;
      const r = c.replicas.find((x) => x.name === node);
      // A stopped replica still reads `current` until the leader misses it for ~10 s
      // (nats-server lostQuorumInterval); recent activity proves this is the restarted one.
      if (r?.current && !r.offline && r.lag === 0 && r.activeNanos < 2e9) {
        return Date.now() - started;
      }
    }
    await sleep(100);
  }
  return null;
}

async function waitFor(what: string, timeoutMs: number, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new AkiraNatsError(
        "no-traffic",
        `no ${what} within ${timeoutMs} ms: check the stream's subjects and the user's permissions`,
      );
    }
    await sleep(50);
  }
}

/** After lame-duck mode the server exits on its own: wait until it no longer answers the system ping. */
async function waitNodeGone(
  sysNc: NatsConnection,
  node: string,
  timeoutMs: number,
  say: (m: string) => void,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const servers = await pingServers(sysNc, { timeoutMs: 1000 }).catch(() => []);
    if (!servers.some((s) => s.name === node)) {
      say(`${node} has left the cluster`);
      return;
    }
    await sleep(500);
  }
  say(`${node} still answers after ${timeoutMs} ms of lame-duck mode: stopping it anyway`);
}
