/**
 * One poll of one node's monitoring endpoints: `/healthz`, `/varz` and
 * `/jsz?streams=true&consumers=true` (nats-server `server/monitor.go`). The port has no
 * authentication and is private to the cluster network, so it is read from inside that network
 * (on a node, or through an SSH tunnel).
 */

export interface ReplicaView {
  readonly name: string;
  readonly current: boolean;
  readonly offline: boolean;
  readonly lag: number;
  /** Milliseconds since the leader last heard from this replica. */
  readonly activeMs: number;
}

export interface ConsumerView {
  readonly stream: string;
  readonly name: string;
  readonly numPending: number;
  readonly numAckPending: number;
  readonly numRedelivered: number;
  /** Absent on a standalone server. */
  readonly leader?: string;
  readonly replicas: readonly ReplicaView[];
}

export interface StreamView {
  readonly account: string;
  readonly name: string;
  readonly messages: number;
  readonly bytes: number;
  readonly lastSeq: number;
  readonly clustered: boolean;
  /** As this node sees it; only the leader's own view is authoritative (followers' is stale). */
  readonly leader?: string;
  readonly replicas: readonly ReplicaView[];
  readonly consumers: readonly ConsumerView[];
}

export interface NodePoll {
  readonly url: string;
  /** `server_name` from `/varz`; the URL while the node does not answer. */
  readonly name: string;
  readonly reachable: boolean;
  /** `ok`, or the reason `/healthz` gave (or the fetch error). */
  readonly health: string;
  readonly jetstream: boolean;
  readonly storageUsed: number;
  readonly storageReserved: number;
  /** JetStream `max_storage`: the disk minus headroom (see components/config/serverTypes.ts). */
  readonly storageMax: number;
  readonly memoryUsed: number;
  readonly connections: number;
  readonly metaLeader?: string;
  readonly uptime?: string;
  readonly streams: readonly StreamView[];
}

interface JszReplica {
  name: string;
  current?: boolean;
  offline?: boolean;
  lag?: number;
  active?: number;
}
interface JszConsumer {
  stream_name: string;
  name: string;
  num_pending?: number;
  num_ack_pending?: number;
  num_redelivered?: number;
  cluster?: { leader?: string; replicas?: JszReplica[] };
}
interface JszStream {
  name: string;
  cluster?: { leader?: string; replicas?: JszReplica[] };
  state: { messages: number; bytes: number; last_seq: number };
  consumer_detail?: JszConsumer[];
}
interface Jsz {
  config?: { max_storage?: number };
  storage?: number;
  reserved_storage?: number;
  memory?: number;
  meta_cluster?: { leader?: string };
  account_details?: { name: string; stream_detail?: JszStream[] }[];
}
interface Varz {
  server_name: string;
  connections?: number;
  uptime?: string;
  jetstream?: { config?: unknown };
}

async function getJson<T>(url: string, timeoutMs: number): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: (await res.json()) as T };
}

function replicas(list: readonly JszReplica[] | undefined): ReplicaView[] {
  return (list ?? []).map((r) => ({
    name: r.name,
    current: r.current ?? false,
    offline: r.offline ?? false,
    lag: r.lag ?? 0,
    activeMs: Math.round((r.active ?? 0) / 1e6),
  }));
}

/** Polls one node; never throws: an unreachable node is a result, not an error. */
export async function pollNode(monitorUrl: string, timeoutMs = 5000): Promise<NodePoll> {
  const base = monitorUrl.replace(/\/+$/, "");
  try {
    const [health, varz, jsz] = await Promise.all([
      getJson<{ status: string; error?: string }>(`${base}/healthz`, timeoutMs),
      getJson<Varz>(`${base}/varz`, timeoutMs),
      getJson<Jsz>(`${base}/jsz?streams=true&consumers=true`, timeoutMs),
    ]);
    const j = jsz.body;
    const streams: StreamView[] = (j.account_details ?? []).flatMap((a) =>
      (a.stream_detail ?? []).map((s) => ({
        account: a.name,
        name: s.name,
        messages: s.state.messages,
        bytes: s.state.bytes,
        lastSeq: s.state.last_seq,
        clustered: s.cluster?.replicas !== undefined || s.cluster?.leader !== undefined,
        leader: s.cluster?.leader || undefined,
        replicas: replicas(s.cluster?.replicas),
        consumers: (s.consumer_detail ?? []).map((c) => ({
          stream: c.stream_name,
          name: c.name,
          numPending: c.num_pending ?? 0,
          numAckPending: c.num_ack_pending ?? 0,
          numRedelivered: c.num_redelivered ?? 0,
          leader: c.cluster?.leader || undefined,
          replicas: replicas(c.cluster?.replicas),
        })),
      })),
    );
    return {
      url: monitorUrl,
      name: varz.body.server_name,
      reachable: true,
      health: health.body.status === "ok" ? "ok" : (health.body.error ?? health.body.status),
      jetstream: varz.body.jetstream?.config !== undefined,
      storageUsed: j.storage ?? 0,
      storageReserved: j.reserved_storage ?? 0,
      storageMax: j.config?.max_storage ?? 0,
      memoryUsed: j.memory ?? 0,
      connections: varz.body.connections ?? 0,
      metaLeader: j.meta_cluster?.leader || undefined,
      uptime: varz.body.uptime,
      streams,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return {
      url: monitorUrl,
      name: monitorUrl,
      reachable: false,
      health: `unreachable (${e.name === "TimeoutError" ? "timed out" : (e.cause?.code ?? e.message)})`,
      jetstream: false,
      storageUsed: 0,
      storageReserved: 0,
      storageMax: 0,
      memoryUsed: 0,
      connections: 0,
      streams: [],
    };
  }
}
