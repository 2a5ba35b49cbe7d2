/**
 * Raw JetStream API requests (`$JS.API.…`) answered with the server's own JSON. The snapshot and
 * restore APIs have no typed wrapper in nats.js, and backup.json must hold the server's config and
 * state exactly as sent (so `nats stream restore` reads it), so these calls stay close to the wire.
 */
import type { NatsConnection } from "nats";
import { AkiraNatsError, type ApiErrorContext, fromApiError, StreamNotFoundError } from "./errors";

/** The fields of a JetStream API response this project reads; everything else is passed through. */
export interface JsApiResponse {
  readonly type?: string;
  readonly error?: { readonly code?: number; readonly err_code?: number; readonly description?: string };
  readonly [key: string]: unknown;
}

/** Stream state as the server reports it (`StreamState` in nats-server). */
export interface StreamStateJson {
  readonly messages: number;
  readonly bytes: number;
  readonly first_seq: number;
  readonly last_seq: number;
  readonly first_ts?: string;
  readonly last_ts?: string;
  readonly num_deleted?: number;
  readonly num_subjects?: number;
  readonly consumer_count?: number;
  readonly [key: string]: unknown;
}

/** The stream config fields this project reads; the rest is kept as is. */
export interface StreamConfigJson {
  readonly name: string;
  readonly storage?: "file" | "memory";
  readonly num_replicas?: number;
  readonly subjects?: readonly string[];
  readonly [key: string]: unknown;
}

export interface PeerInfoJson {
  readonly name: string;
  readonly current: boolean;
  readonly offline?: boolean;
  /** Nanoseconds since the leader last heard from this peer. */
  readonly active: number;
  readonly lag?: number;
}

export interface StreamInfoJson {
  readonly config: StreamConfigJson;
  readonly state: StreamStateJson;
  readonly created?: string;
  readonly cluster?: {
    readonly name?: string;
    readonly leader?: string;
    readonly replicas?: readonly PeerInfoJson[];
  };
}

/**
 * A stream info's cluster block, or undefined on a standalone server. Such a server has no cluster
 * name: 2.9 sends no block for its streams, 2.10 and later send one holding only itself as leader
 * (components/jetstream/serverLines.ts). Both read as "not clustered", so no caller knows the line.
 */
export function clusterOf<C extends { readonly name?: string }>(cluster: C | undefined): C | undefined {
  return cluster?.name === undefined ? undefined : cluster;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Decodes a JSON message body; a non-JSON body becomes an error naming the subject. */
export function decodeJson<T>(data: Uint8Array, subject: string): T {
  const text = decoder.decode(data);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new AkiraNatsError("bad-response", `unexpected answer on ${subject}: ${text.slice(0, 200)}`);
  }
}

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** How long any JetStream API request waits for its answer unless the caller says otherwise. */
export const JS_API_TIMEOUT_MS = 10_000;

/**
 * The one way this project asks the JetStream API. API errors become typed errors carrying the
 * server's code (errors.ts `fromApiError`, as nats.js does with its `jserrors`); "no responders"
 * means JetStream is off for this user's account or the cluster has no meta leader yet, and a
 * timeout says how long it waited. Both keep the transport error as `cause`, which
 * `retryTransient` (waitFor.ts) reads to try again.
 */
export async function jsApiRequest<T extends JsApiResponse>(
  nc: NatsConnection,
  subject: string,
  body: unknown,
  opts: { readonly timeoutMs?: number } & ApiErrorContext = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? JS_API_TIMEOUT_MS;
  let msg: Awaited<ReturnType<NatsConnection["request"]>>;
  try {
    msg = await nc.request(subject, body === undefined ? new Uint8Array() : encodeJson(body), {
      timeout: timeoutMs,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "503") {
      throw new AkiraNatsError(
        "jetstream-unavailable",
        `JetStream did not answer ${subject} (no responders): JetStream is off for this account or the cluster has no meta leader yet; check the user (--user) and \`akira-nats server list\``,
        { cause: err },
      );
    }
    if (code === "TIMEOUT") {
      throw new AkiraNatsError(
        "timeout",
        `JetStream did not answer ${subject} within ${timeoutMs} ms: the cluster may have no meta leader (check \`akira-nats server list\`)`,
        { cause: err },
      );
    }
    throw err;
  }
  const res = decodeJson<T>(msg.data, subject);
  if (res.error !== undefined) throw fromApiError(res.error, opts);
  return res;
}

/** `$JS.API.STREAM.INFO.<stream>`; a missing stream is a {@link StreamNotFoundError}. */
export async function streamInfoRaw(
  nc: NatsConnection,
  stream: string,
  timeoutMs?: number,
): Promise<StreamInfoJson & JsApiResponse> {
  const res = await jsApiRequest<StreamInfoJson & JsApiResponse>(
    nc,
    `$JS.API.STREAM.INFO.${stream}`,
    undefined,
    {
      timeoutMs,
      stream,
    },
  );
  return res;
}

/** True when the stream exists; other failures propagate. */
export async function streamExists(nc: NatsConnection, stream: string, timeoutMs?: number): Promise<boolean> {
  try {
    await streamInfoRaw(nc, stream, timeoutMs);
    return true;
  } catch (err) {
    if (err instanceof StreamNotFoundError) return false;
    throw err;
  }
}
