/**
 * Changing a stream's replica count safely: preflight, one update, wait until every replica is
 * current, canary publish. terraform-provider-jetstream and nack send the update and report
 * success; new replicas that never catch up (nats-server#2955, #4695) or a stream that no longer
 * listens on its subjects (nats-server#7996) then go unnoticed until CDRs are lost.
 */

import type { NatsConnection } from "nats";
import { CLIENT_ACCOUNT } from "./accounts";
import { type CanaryResult, publishCanary } from "./canary";
import { AkiraNatsError, fromApiError, JsErrCode } from "./errors";
import { allReplicasCurrent, describeCopies, describeReplica, sameCopy } from "./health";
import { jsApiRequest } from "./jsApiRequest";
import { metaGroup, type StreamCopy, streamCopies, unavailablePeers } from "./peers";
import { MAX_REPLICAS, validReplicas } from "./streamRules";
import { type StreamSnapshot, streamSnapshotInfo, updateStream } from "./streams";
import { waitFor } from "./waitFor";

export type ReplicaPhase = "preflight" | "leader" | "update" | "catch-up" | "canary" | "done";

export interface ReplicaProgress {
  readonly phase: ReplicaPhase;
  readonly message: string;
}

export interface WaitCurrentOptions {
  readonly timeoutMs: number;
  readonly onProgress?: (p: ReplicaProgress) => void;
  /**
   * A system-account connection. With it, every server's own copy of the stream is compared with
   * the leader's (same last sequence and message count), not only the leader's word. Default none.
   */
  readonly systemConnection?: NatsConnection;
  /** The account that owns the stream, for the per-server check. Default `AKIRA`. */
  readonly account?: string;
  /** The peer that must lead once done (scale-down keeping a peer). Default any. */
  readonly leader?: string;
  /** Poll interval in ms. Default 250. */
  readonly pollMs?: number;
  /**
   * Stop the per-server check once this many copies answered. Default: wait for every server
   * (changeReplicas passes the replica count when scaling up).
   */
  readonly expectServers?: number;
}

export interface ChangeReplicasOptions extends WaitCurrentOptions {
  /** On scale-down, the peer whose copy must remain: leadership is moved there first. Default the current leader. */
  readonly keepPeer?: string;
  /** Publish and delete a canary once the replicas are current. Default true. */
  readonly canary?: boolean;
  /** How many leader step-downs to try when moving leadership to `keepPeer`. Default 20. */
  readonly maxStepdowns?: number;
}

export interface ChangeReplicasResult {
  readonly stream: string;
  readonly before: number;
  readonly after: number;
  /** False when the stream already had the requested count (it is still checked for currency). */
  readonly changed: boolean;
  readonly snapshot: StreamSnapshot;
  /** Per-server copies, when a system connection was given. */
  readonly copies?: readonly StreamCopy[];
  readonly canary?: CanaryResult;
  readonly elapsedMs: number;
}

/** Preflight, one update, wait current (and the wanted leader), canary. */
export async function changeReplicas(
  nc: NatsConnection,
  stream: string,
  replicas: number,
  opts: ChangeReplicasOptions,
): Promise<ChangeReplicasResult> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  const progress = opts.onProgress ?? (() => {});
  if (!validReplicas(replicas)) {
    throw new AkiraNatsError(
      "bad-replicas",
      `replicas for ${stream} must be an integer from 1 to ${MAX_REPLICAS}, got ${replicas}`,
    );
  }
  const before = await streamSnapshotInfo(nc, stream);
  const from = before.config.num_replicas;
  const step = `${stream} R${from}→R${replicas}`;
  progress({ phase: "preflight", message: `${step}: checking peers` });
  const unavailable = await preflight(nc, stream, replicas, before, opts);

  let keepPeer = opts.keepPeer;
  if (replicas < from && keepPeer !== undefined) {
    const holders = [before.cluster?.leader, ...(before.cluster?.replicas ?? []).map((r) => r.name)];
    if (!holders.includes(keepPeer)) {
      throw new AkiraNatsError(
        "keep-peer",
        `cannot keep ${keepPeer}'s copy of ${stream}: it holds none (copies on ${holders.filter(Boolean).join(", ")}); nothing was changed`,
      );
    }
    await stepLeaderTo(nc, stream, keepPeer, {
      deadline,
      maxStepdowns: opts.maxStepdowns ?? 20,
      onProgress: progress,
    });
  } else if (replicas >= from) {
    keepPeer = undefined;
  }

  if (from !== replicas) {
    progress({ phase: "update", message: `${step}: updating the stream` });
    await updateStream(nc, stream, { replicas }, { unavailablePeers: unavailable });
  }
  const remaining = Math.max(1, deadline - Date.now());
  const { snapshot, copies } = await waitSettled(nc, stream, replicas, {
    ...opts,
    timeoutMs: remaining,
    leader: keepPeer ?? opts.leader,
    // Scaling down, wait for every server: the dropped copies must be seen gone.
    expectServers: opts.expectServers ?? (replicas >= from ? replicas : undefined),
  });

  let canary: CanaryResult | undefined;
  if (opts.canary ?? true) {
    progress({ phase: "canary", message: `${step}: canary publish` });
    canary = await publishCanary(nc, stream, snapshot.config.subjects ?? [], {
      timeoutMs: Math.max(2000, Math.min(10_000, deadline - Date.now())),
      denyDelete: snapshot.config.deny_delete === true,
    });
  }
  const elapsedMs = Date.now() - started;
  progress({
    phase: "done",
    message: `${step}: leader ${snapshot.cluster?.leader ?? "(standalone)"}, ${replicas - 1} replica(s) current, ${snapshot.state.messages} messages, ${elapsedMs} ms`,
  });
  return {
    stream,
    before: from,
    after: replicas,
    changed: from !== replicas,
    snapshot,
    copies,
    canary,
    elapsedMs,
  };
}

/**
 * Fails before any change when the update cannot succeed: R > 1 on a standalone server (10074),
 * fewer than R peers online and current (10005, naming them). Returns the unavailable peers.
 */
async function preflight(
  nc: NatsConnection,
  stream: string,
  replicas: number,
  before: StreamSnapshot,
  opts: ChangeReplicasOptions,
): Promise<string[]> {
  const clusteredByInfo = nc.info?.cluster !== undefined;
  const view = opts.systemConnection ? await metaGroup(opts.systemConnection) : undefined;
  const clustered = view ? view.clustered : clusteredByInfo;
  if (replicas > 1 && !clustered) {
    throw fromApiError(
      {
        err_code: JsErrCode.ReplicasNotSupported,
        description: "replicas > 1 not supported in non-clustered mode",
      },
      { stream, replicas, server: nc.info?.server_name },
    );
  }
  if (view === undefined || !view.clustered) return [];
  const ready = view.peers.filter((p) => p.online && p.current);
  const unavailable = unavailablePeers(view);
  if (ready.length < replicas) {
    throw fromApiError(
      {
        err_code: JsErrCode.NoSuitablePeers,
        description: `preflight: ${ready.length} of ${view.clusterSize} peers online and current`,
      },
      { stream, replicas, unavailablePeers: unavailable },
    );
  }
  // Scaling down needs the stream's current holders reachable, or the server drops the wrong copy.
  const offlineHolders = (before.cluster?.replicas ?? []).filter((r) => r.offline).map((r) => r.name);
  if (replicas < before.config.num_replicas && offlineHolders.length > 0 && opts.keepPeer !== undefined) {
    throw new AkiraNatsError(
      "replica-offline",
      `${stream} has offline replicas (${offlineHolders.join(", ")}): bring them back before scaling down; nothing was changed`,
    );
  }
  return unavailable;
}

/**
 * Steps the stream leader down until `peer` leads. nats-server 2.9's
 * `$JS.API.STREAM.LEADER.STEPDOWN` takes no preferred peer (a body is refused with 10003; a
 * `placement.preferred` arrived in 2.11), so a new election is forced until the wanted peer wins,
 * a bounded number of times.
 */
export async function stepLeaderTo(
  nc: NatsConnection,
  stream: string,
  peer: string,
  opts: { deadline: number; maxStepdowns: number; onProgress?: (p: ReplicaProgress) => void },
): Promise<void> {
  for (let attempt = 0; attempt <= opts.maxStepdowns; attempt++) {
    const info = await streamSnapshotInfo(nc, stream);
    const leader = info.cluster?.leader;
    if (leader === peer) return;
    if (attempt === opts.maxStepdowns || Date.now() > opts.deadline) break;
    opts.onProgress?.({
      phase: "leader",
      message: `${stream}: moving leadership from ${leader ?? "(none)"} to ${peer} (step-down ${attempt + 1})`,
    });
    if (leader !== undefined)
      await jsApiRequest(nc, `$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { stream });
    await waitNewLeader(nc, stream, leader, opts.deadline);
  }
  throw new AkiraNatsError(
    "keep-peer",
    `could not move ${stream}'s leadership to ${peer} after ${opts.maxStepdowns} step-downs: nothing was changed; retry, or check ${peer}'s health`,
  );
}

/** Waits (until `deadline`, then gives up quietly: the caller looks again) for a leader other than `old`. */
async function waitNewLeader(nc: NatsConnection, stream: string, old: string | undefined, deadline: number) {
  await waitFor(
    async () => {
      const leader = (await streamSnapshotInfo(nc, stream))?.cluster?.leader;
      return leader !== undefined && leader !== old ? leader : undefined;
    },
    { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 200, what: `a new leader of ${stream}` },
  ).catch(() => undefined);
}

/** Resolves once a leader and R−1 current replicas with zero lag hold the stream. */
export async function waitReplicasCurrent(
  nc: NatsConnection,
  stream: string,
  replicas: number,
  opts: WaitCurrentOptions,
): Promise<StreamSnapshot> {
  return (await waitSettled(nc, stream, replicas, opts)).snapshot;
}

async function waitSettled(
  nc: NatsConnection,
  stream: string,
  replicas: number,
  opts: WaitCurrentOptions,
): Promise<{ snapshot: StreamSnapshot; copies?: StreamCopy[] }> {
  let status = "waiting for stream info";
  let lastReport = 0;
  const report = (next: string) => {
    if (next !== status || Date.now() - lastReport > 5000) {
      opts.onProgress?.({ phase: "catch-up", message: `${stream}: ${next}` });
      lastReport = Date.now();
    }
    status = next;
  };
  const settled = async () => {
    // During an election stream info can briefly fail: waitFor tries again until the deadline.
    const snap = await streamSnapshotInfo(nc, stream);
    const verdict = judge(snap, replicas, opts.leader);
    if (!verdict.ok) {
      report(verdict.status);
      return undefined;
    }
    if (opts.systemConnection === undefined) return { snapshot: snap };
    const copies = await streamCopies(opts.systemConnection, opts.account ?? CLIENT_ACCOUNT, stream, {
      expectServers: opts.expectServers,
    });
    if (copies.length === replicas && copies.every((c) => sameCopy(c, snap.state)))
      return { snapshot: snap, copies };
    report(`copies: ${describeCopies(copies)}; leader has ${snap.state.messages}/seq ${snap.state.lastSeq}`);
    return undefined;
  };
  return waitFor(settled, {
    timeoutMs: opts.timeoutMs,
    intervalMs: opts.pollMs ?? 250,
    what: `${stream} at ${replicas} current replica(s)`,
  }).catch((err: Error) => {
    throw new AkiraNatsError(
      "replicas-timeout",
      `${stream} did not reach ${replicas} current replica(s) within ${opts.timeoutMs} ms (last seen: ${status}): the update was sent; check akira-nats server list and the nats-server logs, then re-run to wait again`,
      { cause: err },
    );
  });
}

/** Is the stream at `replicas` with a leader and every follower current? Says why not. */
export function judge(
  snap: StreamSnapshot,
  replicas: number,
  wantedLeader?: string,
): { ok: boolean; status: string } {
  if (snap.config.num_replicas !== replicas) {
    return { ok: false, status: `config still says R${snap.config.num_replicas}` };
  }
  const cluster = snap.cluster;
  if (cluster === undefined) {
    // A standalone server has no cluster view: R1 there is always "current".
    return replicas === 1 ? { ok: true, status: "standalone" } : { ok: false, status: "no cluster view" };
  }
  if (cluster.leader === undefined) return { ok: false, status: "no leader" };
  if (wantedLeader !== undefined && cluster.leader !== wantedLeader) {
    return { ok: false, status: `leader is ${cluster.leader}, want ${wantedLeader}` };
  }
  const parts = cluster.replicas.map(describeReplica);
  const status = `leader ${cluster.leader}${parts.length ? `; ${parts.join(", ")}` : ""}`;
  return { ok: allReplicasCurrent(cluster.replicas, replicas), status };
}
