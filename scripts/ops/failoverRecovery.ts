/**
 * The node comes back: it is started, its replica must become current, and (with the system
 * account) its own copy of the stream must match the others'.
 */
import type { NatsConnection } from "nats";
import { CLIENT_ACCOUNT } from "../../components/jetstream/accounts";
import { replicaCurrent } from "../../components/jetstream/health";
import { streamSnapshotInfo } from "../../components/jetstream/streams";
import { waitFor } from "../../components/jetstream/waitFor";
import type { CdrTraffic, TrafficStats } from "../traffic/cdrTraffic";
import { copyLagsBehind } from "./failoverNode";
import type { FailoverRun } from "./failoverRun";
import type { NodeAction } from "./failoverTest";

export interface StartRecord {
  /** The traffic's counters when the start command was given. */
  readonly whileDown: TrafficStats;
  readonly startAt: number;
  readonly started: boolean;
}

export async function startNode(
  run: FailoverRun,
  traffic: CdrTraffic,
  start: NodeAction,
): Promise<StartRecord> {
  const whileDown = traffic.stats();
  const startAt = Date.now();
  run.progress("start", `starting ${run.node}`);
  const started = await run.act("start", start);
  return { whileDown, startAt, started };
}

/** Milliseconds until the started node's replica is current; null (and a problem) when it never is. */
export async function waitCatchUp(run: FailoverRun): Promise<number | null> {
  const { node, stream } = run;
  const timeoutMs = run.opts.recoveryTimeoutMs ?? 120_000;
  run.progress("catch-up", `waiting for ${node}'s replica of ${stream} to be current`);
  const catchUpMs = await waitReplicaCaughtUp(run.nc, stream, node, timeoutMs);
  if (catchUpMs === null) {
    run.problem(
      "not-current",
      `${node}'s replica of ${stream} was not current within ${timeoutMs} ms after the start: check its log, then \`akira-nats server check stream --stream ${stream}\``,
    );
  } else {
    run.progress("catch-up", `${node} is current again after ${catchUpMs} ms`);
  }
  return catchUpMs;
}

/** Milliseconds until `node` leads the stream or is a current replica with zero lag; null on timeout. */
async function waitReplicaCaughtUp(
  nc: NatsConnection,
  stream: string,
  node: string,
  timeoutMs: number,
): Promise<number | null> {
  const started = Date.now();
  const current = async () => {
    const c = (await streamSnapshotInfo(nc, stream)).cluster;
    if (c?.leader === undefined) return undefined;
    if (c.leader === node) return Date.now() - started;
    const r = c.replicas.find((x) => x.name === node);
    // A stopped replica still reads `current` until the leader misses it for ~10 s
    // (nats-server lostQuorumInterval); recent activity proves this is the restarted one.
    return r !== undefined && replicaCurrent(r) && r.activeNanos < 2e9 ? Date.now() - started : undefined;
  };
  return waitFor(current, { timeoutMs, what: `${node}'s replica of ${stream} to be current` }).catch(
    () => null,
  );
}

/**
 * The leader calling the replica current is not enough on 2.9 (see copyLagsBehind); only the
 * system account sees each server's own copy, so without it this is not checked (null).
 */
export async function compareCopy(run: FailoverRun, catchUpMs: number | null): Promise<boolean | null> {
  const { opts, node, stream, sysNc } = run;
  if (sysNc === undefined || catchUpMs === null) return null;
  run.progress("catch-up", `comparing ${node}'s copy of ${stream} with the others`);
  const behind = await copyLagsBehind(
    sysNc,
    opts.account ?? CLIENT_ACCOUNT,
    stream,
    node,
    run.before.config.num_replicas,
    opts.copyTimeoutMs ?? 15_000,
  );
  if (behind !== undefined) {
    run.problem(
      "copy-diverged",
      `${node} reports its replica current, but its copy of ${stream} never matched the others (${behind}): the restarted replica diverged (nats-server 2.9, nats-server#2955/#4695); rebuild it with \`nats stream cluster peer-remove ${stream} ${node}\``,
    );
  }
  return behind === undefined;
}
