/**
 * The failover test (runbook steps 9–10): with CDRs published and consumed all along, stop one
 * node of the cluster (by default the stream leader, the hardest case), prove that publishing and
 * consuming carry on, start it again, wait until its replica is current, and read the stream back
 * to prove that every acknowledged CDR is stored exactly once.
 */

import type { NatsConnection } from "nats";
import { type ConnectionTarget, connectNats } from "../../components/jetstream/connection";
import type { CdrTraffic } from "../traffic/cdrTraffic";
import { handOff } from "./failoverHandOff";
import { stayDown, stopNode } from "./failoverOutage";
import { abandonProbe, finishProbe, proveTrafficFlows, releaseProbe, startProbe } from "./failoverProbe";
import { compareCopy, startNode, waitCatchUp } from "./failoverRecovery";
import { newRun } from "./failoverRun";
import { resolveTarget } from "./failoverTarget";
import { judge, readBack } from "./failoverVerdict";
import type { CommandResult } from "./shellCommand";

export { testSubjectPrefix } from "./failoverProbe";

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

/**
 * The phases in their order. A phase that finds something wrong records a problem and the test
 * goes on, so the node is always started again and the stream always read back; a phase that
 * throws ends the test, and the own traffic with it.
 */
async function runWith(
  nc: NatsConnection,
  sysNc: NatsConnection | undefined,
  opts: FailoverTestOptions,
  progress: (phase: FailoverProgress["phase"], message: string) => void,
): Promise<FailoverReport> {
  const actions = {
    stop: opts.stop ?? DEFAULT_STOP,
    start: opts.start ?? DEFAULT_START,
    lameDuck: opts.lameDuck ?? DEFAULT_LAME_DUCK,
  };
  const run = newRun(nc, sysNc, opts, await resolveTarget(nc, sysNc, opts, actions), progress);
  const probe = await startProbe(run);
  let report: FailoverReport | undefined;
  try {
    await proveTrafficFlows(probe);
    if (opts.graceful) await handOff(run, probe, actions.lameDuck);
    const stop = await stopNode(run, probe.traffic, actions.stop);
    const leadership = stop.stopped ? await stayDown(run, probe, stop) : {};
    const start = await startNode(run, probe.traffic, actions.start);
    const catchUpMs = start.started ? await waitCatchUp(run) : null;
    const unavailableMs = probe.traffic.maxGapBetween(stop.stopAt, start.startAt);
    const { stats, ids } = await finishProbe(probe);
    const copyAgrees = await compareCopy(run, catchUpMs);
    const verified = await readBack(run, probe, ids);
    await releaseProbe(probe);
    report = judge(run, { stop, leadership, start, catchUpMs, unavailableMs, stats, verified, copyAgrees });
    progress(
      "done",
      report.ok
        ? "failover test passed"
        : `failover test FAILED: ${report.problems.map((p) => p.message).join("; ")}`,
    );
    return report;
  } finally {
    if (report === undefined) await abandonProbe(probe);
  }
}
