/**
 * Turns the per-node polls into one picture of the cluster. A follower's view of a stream's
 * replicas is stale (it keeps listing dead peers as current), so a stream or consumer is judged
 * by the node that itself claims to lead it; none claiming it means leaderless, unless a follower
 * names a leader this monitor does not watch and every watched node answered.
 */
import type { ConsumerView, NodePoll, ReplicaView, StreamView } from "./monitorPoll";

export interface NodeStatus {
  readonly name: string;
  readonly url: string;
  readonly health: string;
  readonly jetstream: boolean;
  readonly storageUsed: number;
  readonly storageReserved: number;
  readonly storageMax: number;
  /** Used storage as a share of JetStream's max storage, 0–100. */
  readonly storagePercent: number;
  readonly memoryUsed: number;
  readonly connections: number;
  readonly metaLeader?: string;
}

export interface ConsumerStatus {
  readonly name: string;
  readonly leader?: string;
  readonly numPending: number;
  readonly numAckPending: number;
  readonly numRedelivered: number;
  /** numPending + numAckPending: what the application still has to work through. */
  readonly backlog: number;
  /** Backlog change per minute over the recent polls (positive: falling behind). */
  readonly trendPerMin: number;
  readonly leaderless: boolean;
}

export interface StreamStatus {
  readonly name: string;
  readonly found: boolean;
  readonly leader?: string;
  readonly messages: number;
  readonly bytes: number;
  readonly lastSeq: number;
  readonly replicas: readonly ReplicaView[];
}

export interface MonitorSample {
  /** ISO time of the poll. */
  readonly t: string;
  readonly nodes: readonly NodeStatus[];
  readonly stream: StreamStatus;
  readonly consumers: readonly ConsumerStatus[];
  /** `ACCOUNT/STREAM` of every clustered stream no node leads (all accounts, not only --stream). */
  readonly leaderlessStreams: readonly string[];
}

/** Per-consumer backlog history for the trend; kept by the caller between polls. */
export type BacklogHistory = Map<string, { t: number; backlog: number }[]>;

const TREND_POLLS = 10;

/** One node's copy of a stream, as that node reported it. */
interface StreamOnNode {
  readonly node: string;
  readonly s: StreamView;
}

/** One node's copy of a consumer, as that node reported it. */
interface ConsumerOnNode {
  readonly node: string;
  readonly c: ConsumerView;
}

/** Whether a follower's claim that `leader` leads counts; see {@link unwatchedLeader}. */
type LeaderElsewhere = (leader: string | undefined) => boolean;

export function buildSample(
  polls: readonly NodePoll[],
  stream: string,
  history: BacklogHistory,
  only?: readonly string[],
  now = Date.now(),
): MonitorSample {
  const views: StreamOnNode[] = polls.flatMap((p) => p.streams.map((s) => ({ node: p.name, s })));
  const elsewhere = unwatchedLeader(polls);
  const mine = views.filter((v) => v.s.name === stream);
  return {
    t: new Date(now).toISOString(),
    nodes: polls.map(nodeStatus),
    stream: streamStatus(stream, mine, elsewhere),
    consumers: consumerStatuses(mine, only, elsewhere, history, now),
    leaderlessStreams: leaderlessStreams(views, elsewhere),
  };
}

function nodeStatus(p: NodePoll): NodeStatus {
  return {
    name: p.name,
    url: p.url,
    health: p.health,
    jetstream: p.jetstream,
    storageUsed: p.storageUsed,
    storageReserved: p.storageReserved,
    storageMax: p.storageMax,
    storagePercent: p.storageMax > 0 ? Math.round((p.storageUsed / p.storageMax) * 1000) / 10 : 0,
    memoryUsed: p.memoryUsed,
    connections: p.connections,
    metaLeader: p.metaLeader,
  };
}

/**
 * A follower's word for a leader this monitor does not watch at all (given only some nodes'
 * URLs) is taken when every watched node answered: nothing says that leader is gone. When a
 * watched node did not answer, it may be that leader, so no unconfirmed claim counts.
 */
function unwatchedLeader(polls: readonly NodePoll[]): LeaderElsewhere {
  const polledNames = new Set(polls.map((p) => p.name));
  const allAnswered = polls.every((p) => p.reachable);
  return (leader) => allAnswered && leader !== undefined && leader !== "" && !polledNames.has(leader);
}

/** The copy whose node leads it (or the only one, unclustered): the one view that is not stale. */
function authoritative(list: readonly StreamOnNode[]): StreamView | undefined {
  return list.find((v) => !v.s.clustered || v.s.leader === v.node)?.s;
}

/** The unwatched leader a follower names, when that claim counts. */
function claimedElsewhere(list: readonly StreamOnNode[], elsewhere: LeaderElsewhere): string | undefined {
  return list.find((v) => v.s.clustered && elsewhere(v.s.leader))?.s.leader;
}

/** A stream is leaderless when no node leads it and no claim of a leader elsewhere counts. */
function leaderlessStreams(views: readonly StreamOnNode[], elsewhere: LeaderElsewhere): string[] {
  const byKey = new Map<string, StreamOnNode[]>();
  for (const v of views) {
    const key = `${v.s.account}/${v.s.name}`;
    byKey.set(key, [...(byKey.get(key) ?? []), v]);
  }
  return [...byKey]
    .filter(
      ([, list]) => authoritative(list) === undefined && claimedElsewhere(list, elsewhere) === undefined,
    )
    .map(([key]) => key);
}

function streamStatus(
  stream: string,
  mine: readonly StreamOnNode[],
  elsewhere: LeaderElsewhere,
): StreamStatus {
  const lead = authoritative(mine);
  return {
    name: stream,
    found: mine.length > 0,
    leader: lead === undefined ? claimedElsewhere(mine, elsewhere) : (lead.leader ?? mine[0]?.node),
    messages: lead?.messages ?? Math.max(0, ...mine.map((v) => v.s.messages)),
    bytes: lead?.bytes ?? Math.max(0, ...mine.map((v) => v.s.bytes)),
    lastSeq: lead?.lastSeq ?? Math.max(0, ...mine.map((v) => v.s.lastSeq)),
    replicas: lead?.replicas ?? [],
  };
}

/** The stream's consumers (only those asked for, when given), by name. */
function consumerStatuses(
  mine: readonly StreamOnNode[],
  only: readonly string[] | undefined,
  elsewhere: LeaderElsewhere,
  history: BacklogHistory,
  now: number,
): ConsumerStatus[] {
  const byName = new Map<string, ConsumerOnNode[]>();
  for (const v of mine) {
    for (const c of v.s.consumers.filter((x) => only === undefined || only.includes(x.name)))
      byName.set(c.name, [...(byName.get(c.name) ?? []), { node: v.node, c }]);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => consumerStatus(name, list, elsewhere, history, now));
}

function consumerStatus(
  name: string,
  list: readonly ConsumerOnNode[],
  elsewhere: LeaderElsewhere,
  history: BacklogHistory,
  now: number,
): ConsumerStatus {
  const leader = list.find((v) => v.c.leader === undefined || v.c.leader === v.node);
  const claimed = list.find((v) => elsewhere(v.c.leader))?.c.leader;
  // Without a leader, the highest counts any replica reports are the safe side.
  const pick = (f: (c: ConsumerView) => number) =>
    leader ? f(leader.c) : Math.max(...list.map((v) => f(v.c)));
  const numPending = pick((c) => c.numPending);
  const numAckPending = pick((c) => c.numAckPending);
  const backlog = numPending + numAckPending;
  return {
    name,
    leader: leader?.c.leader ?? (leader ? leader.node : claimed),
    numPending,
    numAckPending,
    numRedelivered: pick((c) => c.numRedelivered),
    backlog,
    trendPerMin: backlogTrend(history, name, backlog, now),
    leaderless: leader === undefined && claimed === undefined,
  };
}

/** Records `backlog` in the consumer's history; the change per minute since the oldest poll kept. */
function backlogTrend(history: BacklogHistory, name: string, backlog: number, now: number): number {
  const h = [...(history.get(name) ?? []), { t: now, backlog }].slice(-TREND_POLLS);
  history.set(name, h);
  const first = h[0] as { t: number; backlog: number };
  return now > first.t ? Math.round(((backlog - first.backlog) * 60_000) / (now - first.t)) : 0;
}
