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

export function buildSample(
  polls: readonly NodePoll[],
  stream: string,
  history: BacklogHistory,
  only?: readonly string[],
  now = Date.now(),
): MonitorSample {
  const nodes: NodeStatus[] = polls.map((p) => ({
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
  }));
  const views = polls.flatMap((p) => p.streams.map((s) => ({ node: p.name, s })));
  const authoritative = (list: { node: string; s: StreamView }[]) =>
    list.find((v) => !v.s.clustered || v.s.leader === v.node)?.s;

  // A follower's word for a leader this monitor does not watch at all (given only some nodes'
  // URLs) is taken when every watched node answered: nothing says that leader is gone. When a
  // watched node did not answer, it may be that leader, so no unconfirmed claim counts.
  const polledNames = new Set(polls.map((p) => p.name));
  const allAnswered = polls.every((p) => p.reachable);
  const claimedElsewhere = (list: { node: string; s: StreamView }[]) =>
    allAnswered
      ? list.find(
          (v) =>
            v.s.clustered && v.s.leader !== undefined && v.s.leader !== "" && !polledNames.has(v.s.leader),
        )?.s.leader
      : undefined;

  const leaderlessStreams: string[] = [];
  const byKey = new Map<string, { node: string; s: StreamView }[]>();
  for (const v of views) {
    const key = `${v.s.account}/${v.s.name}`;
    byKey.set(key, [...(byKey.get(key) ?? []), v]);
  }
  for (const [key, list] of byKey) {
    if (authoritative(list) === undefined && claimedElsewhere(list) === undefined)
      leaderlessStreams.push(key);
  }

  const mine = views.filter((v) => v.s.name === stream);
  const lead = authoritative(mine);
  const streamStatus: StreamStatus = {
    name: stream,
    found: mine.length > 0,
    leader: lead === undefined ? claimedElsewhere(mine) : (lead.leader ?? mine[0]?.node),
    messages: lead?.messages ?? Math.max(0, ...mine.map((v) => v.s.messages)),
    bytes: lead?.bytes ?? Math.max(0, ...mine.map((v) => v.s.bytes)),
    lastSeq: lead?.lastSeq ?? Math.max(0, ...mine.map((v) => v.s.lastSeq)),
    replicas: lead?.replicas ?? [],
  };

  const consumerViews = new Map<string, { node: string; c: ConsumerView }[]>();
  for (const v of mine) {
    for (const c of v.s.consumers.filter((x) => only === undefined || only.includes(x.name)))
      consumerViews.set(c.name, [...(consumerViews.get(c.name) ?? []), { node: v.node, c }]);
  }
  const consumers: ConsumerStatus[] = [...consumerViews.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => {
      const leader = list.find((v) => v.c.leader === undefined || v.c.leader === v.node);
      const elsewhere = allAnswered
        ? list.find((v) => v.c.leader !== undefined && v.c.leader !== "" && !polledNames.has(v.c.leader))?.c
            .leader
        : undefined;
      // Without a leader, the highest counts any replica reports are the safe side.
      const pick = (f: (c: ConsumerView) => number) =>
        leader ? f(leader.c) : Math.max(...list.map((v) => f(v.c)));
      const numPending = pick((c) => c.numPending);
      const numAckPending = pick((c) => c.numAckPending);
      const backlog = numPending + numAckPending;
      const h = [...(history.get(name) ?? []), { t: now, backlog }].slice(-TREND_POLLS);
      history.set(name, h);
      const first = h[0] as { t: number; backlog: number };
      const trendPerMin =
        now > first.t ? Math.round(((backlog - first.backlog) * 60_000) / (now - first.t)) : 0;
      return {
        name,
        leader: leader?.c.leader ?? (leader ? leader.node : elsewhere),
        numPending,
        numAckPending,
        numRedelivered: pick((c) => c.numRedelivered),
        backlog,
        trendPerMin,
        leaderless: leader === undefined && elsewhere === undefined,
      };
    });
  return { t: new Date(now).toISOString(), nodes, stream: streamStatus, consumers, leaderlessStreams };
}
