/**
 * Which JetStream peers exist, which are online and current, from the system account's
 * `$SYS.REQ.SERVER.PING.JSZ` (every server answers; the meta leader's answer lists the followers
 * with `current`/`offline`, nats-server `server/monitor.go` `MetaClusterInfo`). nats-server 2.9
 * has no client-account API for this: `$JS.API.INFO` is per account and says nothing of peers.
 */
import { type NatsConnection, RequestStrategy } from "nats";
import { AkiraNatsError } from "./errors";
import { peerCurrent } from "./health";

export interface JetStreamPeer {
  readonly name: string;
  /** Answered this ping and is not marked offline by the meta leader. */
  readonly online: boolean;
  /** Caught up with the meta group (the leader is current by definition). */
  readonly current: boolean;
  readonly leader: boolean;
}

export interface MetaGroupView {
  /** False on a standalone server (the pilot): it has no meta group. */
  readonly clustered: boolean;
  readonly clusterName?: string;
  readonly leader?: string;
  /** The configured size of the meta group; 1 on a standalone server. */
  readonly clusterSize: number;
  readonly peers: readonly JetStreamPeer[];
  /** Every server that answered the ping. */
  readonly responders: readonly string[];
}

interface JszReply {
  server: { name: string; cluster?: string };
  data?: {
    meta_cluster?: {
      name?: string;
      leader?: string;
      cluster_size?: number;
      replicas?: { name: string; current: boolean; offline?: boolean }[];
    };
    account_details?: {
      name: string;
      stream_detail?: {
        name: string;
        cluster?: { leader?: string };
        state: { messages: number; bytes: number; last_seq: number };
      }[];
    }[];
  };
  error?: { description?: string };
}

/**
 * Collects one JSZ answer per server, 500 ms after the last answer at the latest (never later
 * than `timeoutMs`), or as soon as `done(replies so far)` says the caller has what it needs.
 */
async function pingJsz(
  sysNc: NatsConnection,
  body: object,
  timeoutMs: number,
  done?: (replies: readonly JszReply[]) => boolean,
): Promise<JszReply[]> {
  const replies: JszReply[] = [];
  try {
    const it = await sysNc.requestMany(
      "$SYS.REQ.SERVER.PING.JSZ",
      new TextEncoder().encode(JSON.stringify(body)),
      { maxWait: timeoutMs, strategy: RequestStrategy.JitterTimer, jitter: 500 },
    );
    for await (const m of it) {
      replies.push(m.json<JszReply>());
      // Leaving the loop ends the iterator and its inbox subscription.
      if (done?.(replies)) break;
    }
  } catch (err) {
    throw new AkiraNatsError(
      "system-account",
      `the JetStream peer check ($SYS.REQ.SERVER.PING.JSZ) failed: ${(err as Error).message}: it needs the system-account user (systemPassword / AKIRA_NATS_SYSTEM_PASSWORD)`,
      { cause: err },
    );
  }
  if (replies.length === 0) {
    throw new AkiraNatsError(
      "system-account",
      "no server answered $SYS.REQ.SERVER.PING.JSZ: connect with the system-account user (systemPassword / AKIRA_NATS_SYSTEM_PASSWORD)",
    );
  }
  return replies;
}

/** The meta group as its leader sees it, plus which servers answered. */
export async function metaGroup(sysNc: NatsConnection, timeoutMs = 2000): Promise<MetaGroupView> {
  // First ask the meta leader alone (`leader_only`): one answer, no waiting for stragglers. Its
  // `offline` flags are the meta group's own verdict. A standalone server, or a cluster without a
  // leader, may not answer that: then every server is asked.
  const fromLeaderOnly = await pingJsz(
    sysNc,
    { leader_only: true },
    Math.min(timeoutMs, 1000),
    () => true,
  ).catch(() => []);
  const leaderReply = fromLeaderOnly.find((r) => r.data?.meta_cluster?.replicas !== undefined);
  if (leaderReply !== undefined) return viewFromLeader(leaderReply);
  const standalone = fromLeaderOnly.find((r) => r.data !== undefined && r.data.meta_cluster === undefined);
  if (standalone !== undefined) {
    // A standalone server counts as its own JetStream leader and has no meta group.
    const name = standalone.server.name;
    return {
      clustered: false,
      clusterSize: 1,
      responders: [name],
      peers: [{ name, online: true, current: true, leader: false }],
    };
  }
  const replies = await pingJsz(sysNc, {}, timeoutMs);
  const responders = replies.map((r) => r.server.name);
  const withMeta = replies.filter((r) => r.data?.meta_cluster !== undefined);
  if (withMeta.length === 0) {
    return {
      clustered: false,
      clusterSize: 1,
      responders,
      peers: responders.map((name) => ({ name, online: true, current: true, leader: false })),
    };
  }
  const leaderName = withMeta.find((r) => r.data?.meta_cluster?.leader)?.data?.meta_cluster?.leader;
  const fromLeader = withMeta.find((r) => r.server.name === leaderName)?.data?.meta_cluster;
  const anyMeta = (fromLeader ?? withMeta[0]?.data?.meta_cluster) as NonNullable<
    NonNullable<JszReply["data"]>["meta_cluster"]
  >;
  const peers: JetStreamPeer[] = [];
  if (leaderName !== undefined) {
    peers.push({ name: leaderName, online: responders.includes(leaderName), current: true, leader: true });
  }
  for (const r of fromLeader?.replicas ?? []) {
    peers.push({
      name: r.name,
      online: !r.offline && responders.includes(r.name),
      current: peerCurrent(r),
      leader: false,
    });
  }
  // Without a leader the followers' list is unknown: report whoever answered, none current.
  if (fromLeader === undefined) {
    for (const name of responders) peers.push({ name, online: true, current: false, leader: false });
  }
  return {
    clustered: true,
    clusterName: anyMeta.name,
    leader: leaderName,
    clusterSize: anyMeta.cluster_size ?? peers.length,
    peers,
    responders,
  };
}

function viewFromLeader(reply: JszReply): MetaGroupView {
  const meta = reply.data?.meta_cluster as NonNullable<NonNullable<JszReply["data"]>["meta_cluster"]>;
  const peers: JetStreamPeer[] = [{ name: reply.server.name, online: true, current: true, leader: true }];
  for (const r of meta.replicas ?? []) {
    peers.push({ name: r.name, online: !r.offline, current: peerCurrent(r), leader: false });
  }
  return {
    clustered: true,
    clusterName: meta.name,
    leader: reply.server.name,
    clusterSize: meta.cluster_size ?? peers.length,
    peers,
    responders: peers.filter((p) => p.online).map((p) => p.name),
  };
}

/** Names of peers that cannot take a replica now: offline, not current, or never seen. */
export function unavailablePeers(view: MetaGroupView): string[] {
  const names = view.peers.filter((p) => !p.online || !p.current).map((p) => p.name);
  const unseen = view.clusterSize - view.peers.length;
  if (unseen > 0) names.push(`${unseen} peer(s) configured but never joined`);
  return names;
}

export interface StreamCopy {
  readonly server: string;
  readonly messages: number;
  readonly bytes: number;
  readonly lastSeq: number;
}

/**
 * The stream's state on every server that holds a copy (`/jsz?streams=true` over the system
 * account). Lets a caller check that followers really hold the leader's messages, not only that
 * the leader calls them current (nats-server#2955, #4695).
 */
export async function streamCopies(
  sysNc: NatsConnection,
  account: string,
  stream: string,
  opts: {
    readonly timeoutMs?: number;
    /**
     * How many servers hold a copy (the replica count): the check stops as soon as that many
     * copies answered instead of waiting for stragglers. A copy left on a server beyond that
     * number may then go unseen. Default: wait for every server.
     */
    readonly expectServers?: number;
  } = {},
): Promise<StreamCopy[]> {
  const expect = opts.expectServers;
  const replies = await pingJsz(
    sysNc,
    { streams: true, acc: account },
    opts.timeoutMs ?? 2000,
    expect === undefined ? undefined : (so) => copiesIn(so, account, stream).length >= expect,
  );
  return copiesIn(replies, account, stream).sort((a, b) => a.server.localeCompare(b.server));
}

function copiesIn(replies: readonly JszReply[], account: string, stream: string): StreamCopy[] {
  const copies: StreamCopy[] = [];
  for (const r of replies) {
    for (const acc of r.data?.account_details ?? []) {
      if (acc.name !== account) continue;
      for (const s of acc.stream_detail ?? []) {
        if (s.name !== stream) continue;
        copies.push({
          server: r.server.name,
          messages: s.state.messages,
          bytes: s.state.bytes,
          lastSeq: s.state.last_seq,
        });
      }
    }
  }
  return copies;
}
