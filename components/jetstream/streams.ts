/**
 * Stream-level JetStream operations shared by the stream resource, the CLI and the runbook:
 * read a stream's config, state and replica health in one call, create or adopt it, and compare
 * the declared settings with the live ones. Raw `$JS.API` requests (jsApiRequest.ts) keep the
 * server's own field names and error codes intact (nats-server `server/jetstream_api.go`).
 */
import type { NatsConnection } from "nats";
import { StreamNotFoundError } from "./errors";
import { clusterOf, type JsApiResponse, jsApiRequest } from "./jsApiRequest";
import { retryTransient } from "./waitFor";

const NANOS_PER_SECOND = 1_000_000_000;

/** The stream settings a stack declares. Absent fields are not managed (and never diffed). */
export interface DeclaredStreamSettings {
  readonly subjects?: readonly string[];
  readonly replicas?: number;
  readonly storage?: "file" | "memory";
  readonly retention?: "limits" | "interest" | "workqueue";
  readonly maxAgeSeconds?: number;
  readonly maxBytes?: number;
  readonly maxMsgs?: number;
  readonly duplicateWindowSeconds?: number;
  readonly discard?: "old" | "new";
}

/** The declared fields, in the order they are compared and reported. */
export const DECLARED_FIELDS = [
  "subjects",
  "replicas",
  "storage",
  "retention",
  "maxAgeSeconds",
  "maxBytes",
  "maxMsgs",
  "duplicateWindowSeconds",
  "discard",
] as const satisfies readonly (keyof DeclaredStreamSettings)[];
export type DeclaredField = (typeof DECLARED_FIELDS)[number];

/** The server's stream config, as `$JS.API.STREAM.INFO` returns it (fields we read or keep). */
export interface ApiStreamConfig {
  name: string;
  subjects?: string[];
  num_replicas: number;
  storage: "file" | "memory";
  retention: "limits" | "interest" | "workqueue";
  max_age: number;
  max_bytes: number;
  max_msgs: number;
  duplicate_window?: number;
  discard: "old" | "new";
  deny_delete?: boolean;
  placement?: { cluster?: string; tags?: string[] };
  [key: string]: unknown;
}

export interface ReplicaState {
  readonly name: string;
  readonly current: boolean;
  readonly offline: boolean;
  /** Operations behind the leader; 0 when the server omits it. */
  readonly lag: number;
  /** Nanoseconds since the leader last heard from this replica. */
  readonly activeNanos: number;
}

export interface StreamSnapshot {
  readonly config: ApiStreamConfig;
  readonly state: {
    readonly messages: number;
    readonly bytes: number;
    readonly firstSeq: number;
    readonly lastSeq: number;
    readonly consumers: number;
  };
  /** Absent on a non-clustered server. */
  readonly cluster?: {
    readonly name?: string;
    readonly leader?: string;
    /** The followers, as the leader sees them (the leader itself is not listed). */
    readonly replicas: readonly ReplicaState[];
  };
}

interface ApiStreamInfo extends JsApiResponse {
  config: ApiStreamConfig;
  state: { messages: number; bytes: number; first_seq: number; last_seq: number; consumer_count: number };
  cluster?: {
    name?: string;
    leader?: string;
    replicas?: { name: string; current: boolean; offline?: boolean; lag?: number; active: number }[];
  };
}

/** Config, state and cluster view of a stream in one call. Throws {@link StreamNotFoundError}. */
export async function streamSnapshotInfo(nc: NatsConnection, stream: string): Promise<StreamSnapshot> {
  const info = await jsApiRequest<ApiStreamInfo>(nc, `$JS.API.STREAM.INFO.${stream}`, undefined, { stream });
  return toSnapshot(info);
}

/** Like {@link streamSnapshotInfo}, but `undefined` when the stream does not exist. */
export async function findStream(nc: NatsConnection, stream: string): Promise<StreamSnapshot | undefined> {
  try {
    return await streamSnapshotInfo(nc, stream);
  } catch (err) {
    if (err instanceof StreamNotFoundError) return undefined;
    throw err;
  }
}

function toSnapshot(info: ApiStreamInfo): StreamSnapshot {
  const c = clusterOf(info.cluster);
  return {
    config: info.config,
    state: {
      messages: info.state.messages,
      bytes: info.state.bytes,
      firstSeq: info.state.first_seq,
      lastSeq: info.state.last_seq,
      consumers: info.state.consumer_count,
    },
    cluster:
      c === undefined
        ? undefined
        : {
            name: c.name,
            leader: c.leader,
            replicas: (c.replicas ?? []).map((r) => ({
              name: r.name,
              current: r.current,
              offline: r.offline ?? false,
              lag: r.lag ?? 0,
              activeNanos: r.active,
            })),
          },
  };
}

/** The declared view of a live config (every field filled). */
export function declaredFromConfig(config: ApiStreamConfig): Required<DeclaredStreamSettings> {
  return {
    subjects: config.subjects ?? [],
    replicas: config.num_replicas,
    storage: config.storage,
    retention: config.retention,
    maxAgeSeconds: config.max_age / NANOS_PER_SECOND,
    maxBytes: config.max_bytes,
    maxMsgs: config.max_msgs,
    duplicateWindowSeconds: (config.duplicate_window ?? 0) / NANOS_PER_SECOND,
    discard: config.discard,
  };
}

/** `live` with the declared fields applied; everything undeclared (placement included) is kept. */
export function applyDeclared(live: ApiStreamConfig, declared: DeclaredStreamSettings): ApiStreamConfig {
  const next: ApiStreamConfig = { ...live };
  if (declared.subjects !== undefined) next.subjects = [...declared.subjects];
  if (declared.replicas !== undefined) next.num_replicas = declared.replicas;
  if (declared.storage !== undefined) next.storage = declared.storage;
  if (declared.retention !== undefined) next.retention = declared.retention;
  if (declared.maxAgeSeconds !== undefined) next.max_age = declared.maxAgeSeconds * NANOS_PER_SECOND;
  if (declared.maxBytes !== undefined) next.max_bytes = declared.maxBytes;
  if (declared.maxMsgs !== undefined) next.max_msgs = declared.maxMsgs;
  if (declared.duplicateWindowSeconds !== undefined) {
    next.duplicate_window = declared.duplicateWindowSeconds * NANOS_PER_SECOND;
  }
  if (declared.discard !== undefined) next.discard = declared.discard;
  return next;
}

export interface FieldChange {
  readonly field: DeclaredField;
  readonly declared: unknown;
  readonly live: unknown;
}

/** The declared fields whose value differs from the live one; undeclared fields are ignored. */
export function diffDeclared(
  declared: DeclaredStreamSettings,
  live: Required<DeclaredStreamSettings>,
): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of DECLARED_FIELDS) {
    const want = declared[field];
    if (want === undefined) continue;
    if (JSON.stringify(want) !== JSON.stringify(live[field])) {
      changes.push({ field, declared: want, live: live[field] });
    }
  }
  return changes;
}

/** Creates a stream from the declared settings (server defaults for the rest). */
export async function createStream(
  nc: NatsConnection,
  stream: string,
  declared: DeclaredStreamSettings,
): Promise<StreamSnapshot> {
  const base: ApiStreamConfig = {
    name: stream,
    num_replicas: 1,
    storage: "file",
    retention: "limits",
    max_age: 0,
    max_bytes: -1,
    max_msgs: -1,
    discard: "old",
  };
  const config = applyDeclared(base, declared);
  // Creating with the same config twice returns the existing stream, so a request lost while the
  // meta group elects (seen on 2.9 right after a cluster formed) is simply sent again.
  const info = await retryTransient(
    () =>
      jsApiRequest<ApiStreamInfo>(nc, `$JS.API.STREAM.CREATE.${stream}`, config, {
        stream,
        replicas: config.num_replicas,
      }),
    { timeoutMs: 30_000, what: `creating ${stream}` },
  );
  return toSnapshot(info);
}

/**
 * Sends one `$JS.API.STREAM.UPDATE` with the full live config plus the declared fields: 2.9
 * replaces the whole config on update, so anything not re-sent would be reset to its default.
 */
export async function updateStream(
  nc: NatsConnection,
  stream: string,
  declared: DeclaredStreamSettings,
  ctx: { unavailablePeers?: readonly string[] } = {},
): Promise<StreamSnapshot> {
  const live = await streamSnapshotInfo(nc, stream);
  const config = applyDeclared(live.config, declared);
  const info = await jsApiRequest<ApiStreamInfo>(nc, `$JS.API.STREAM.UPDATE.${stream}`, config, {
    stream,
    replicas: config.num_replicas,
    ...ctx,
  });
  return toSnapshot(info);
}
