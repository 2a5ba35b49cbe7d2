/**
 * Copies messages between two deployments' copies of a stream, keeping each message's subject,
 * headers, body and `Nats-Msg-Id`. It serves both gaps the customer's runbook leaves:
 * - cutover: the messages the pilot took after the backup (sequence > the backup's last) go into
 *   the GA stream restored from that backup;
 * - rollback: the messages GA took go back to the pilot, which still holds its pre-cutover data.
 *
 * A message's identity is its `Nats-Msg-Id` (every CDR has one); a message without one gets a
 * content hash as id, so the copy stays idempotent. Ids already present at the destination are
 * skipped (`skipIds`), and every copy is published with its id, so a repeat inside the stream's
 * `duplicate_window` is also dropped by JetStream's own deduplication. The stored timestamp is the
 * copy's, not the original's: JetStream sets it on publish.
 */
import { createHash } from "node:crypto";
import { DeliverPolicy, type JsMsg, type MsgHdrs, headers as makeHeaders, type NatsConnection } from "nats";
import { idleWatchdog } from "../../components/jetstream/idleWatchdog";

const MSG_ID = "Nats-Msg-Id";
/** Publishes in flight at once; ordering is kept because one connection's publishes are ordered. */
const PUBLISH_WINDOW = 256;

export interface StreamCursor {
  /** Last sequence looked at (0 for an empty range). */
  readonly lastSeq: number;
  /** Id of the message at `lastSeq`, when there was one. */
  readonly lastId?: string;
}

/** The id used for deduplication: the `Nats-Msg-Id` header, else a hash of subject and body. */
export function messageId(subject: string, data: Uint8Array, hdrs: MsgHdrs | undefined): string {
  const id = hdrs?.get(MSG_ID);
  if (id !== undefined && id !== "") return id;
  return `sha256:${createHash("sha256").update(subject).update("\n").update(data).digest("hex")}`;
}

/** Current last sequence of the stream. */
export async function lastSequence(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(stream)).state.last_seq;
}

export interface ScanOptions {
  /** First sequence to read. Default 1. */
  readonly fromSeq?: number;
  /** Only the headers (faster: the bodies stay on the server). Default false. */
  readonly headersOnly?: boolean;
  /** Give up when no message arrives for this long. Default 15000 ms. */
  readonly idleTimeoutMs?: number;
}

/**
 * Reads the stream from `fromSeq` up to the last sequence it had when the scan started, calling
 * `onMessage` in order. Uses an ordered consumer, which re-creates itself at the right sequence
 * after a hiccup (a leader change, a reconnect).
 */
export async function scanStream(
  nc: NatsConnection,
  stream: string,
  onMessage: (m: JsMsg) => void | Promise<void>,
  opts: ScanOptions = {},
): Promise<StreamCursor> {
  const fromSeq = Math.max(1, opts.fromSeq ?? 1);
  const until = await lastSequence(nc, stream);
  if (until < fromSeq) return { lastSeq: Math.max(0, fromSeq - 1) };
  const js = nc.jetstream();
  const consumer = await js.consumers.get(stream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: fromSeq,
    headers_only: opts.headersOnly ?? false,
  });
  const messages = await consumer.consume({ max_messages: 1000 });
  const idleMs = opts.idleTimeoutMs ?? 15_000;
  const watchdog = idleWatchdog(messages, idleMs);
  let last: StreamCursor = { lastSeq: fromSeq - 1 };
  try {
    for await (const m of messages) {
      watchdog.touch();
      await onMessage(m);
      last = { lastSeq: m.seq, lastId: messageId(m.subject, m.data, m.headers) };
      if (m.seq >= until || m.info.pending === 0) break;
    }
  } finally {
    watchdog.clear();
    messages.stop();
    await consumer.delete().catch(() => undefined);
  }
  if (watchdog.fired) {
    throw new Error(
      `reading ${stream} stalled at sequence ${last.lastSeq} of ${until} (nothing for ${idleMs} ms): check that the stream has a leader (akira-nats server list, stream info)`,
    );
  }
  return last;
}

/** Ids of the stream's messages from `fromSeq` on. */
export async function streamIds(
  nc: NatsConnection,
  stream: string,
  fromSeq = 1,
): Promise<{ ids: Set<string>; cursor: StreamCursor }> {
  const ids = new Set<string>();
  const cursor = await scanStream(
    nc,
    stream,
    (m) => {
      ids.add(messageId(m.subject, m.data, m.headers));
    },
    // Messages without a Nats-Msg-Id are identified by a hash of their body, which a
    // headers-only read does not carry; CDRs always carry the id, so this only costs speed.
    { fromSeq },
  );
  return { ids, cursor };
}

export interface CopyResult {
  /** Messages published to the destination and stored as new. */
  readonly copied: number;
  /** Messages skipped because their id was already at the destination. */
  readonly skipped: number;
  /** Publishes the destination acknowledged as duplicates (a repeat within its duplicate window). */
  readonly duplicates: number;
  /** Where the read of the source ended: resume a later copy from `lastSeq + 1`. */
  readonly cursor: StreamCursor;
}

export interface CopyOptions {
  /** First source sequence to copy. Default 1. */
  readonly fromSeq?: number;
  /** Ids present at the destination; they are not published again. Copied ids are added to it. */
  readonly skipIds?: Set<string>;
  /** Called every 1000 messages with the number looked at so far. */
  readonly onProgress?: (seen: number) => void;
  /** Per-publish ack timeout. Default 10000 ms. */
  readonly publishTimeoutMs?: number;
}

/** Copies the messages of `stream` from `src` (from `fromSeq` on) into the same stream at `dst`. */
export async function copyMessages(
  src: NatsConnection,
  dst: NatsConnection,
  stream: string,
  opts: CopyOptions = {},
): Promise<CopyResult> {
  const js = dst.jetstream();
  const skip = opts.skipIds;
  let copied = 0;
  let skipped = 0;
  let duplicates = 0;
  let seen = 0;
  let inflight: Promise<void>[] = [];
  const drain = async () => {
    const batch = inflight;
    inflight = [];
    await Promise.all(batch);
  };
  const cursor = await scanStream(
    src,
    stream,
    async (m) => {
      seen++;
      if (seen % 1000 === 0) opts.onProgress?.(seen);
      const id = messageId(m.subject, m.data, m.headers);
      if (skip?.has(id)) {
        skipped++;
        return;
      }
      const hdrs = makeHeaders();
      for (const [k, values] of m.headers ?? []) {
        if (k === MSG_ID || k.startsWith("Nats-Expected-")) continue;
        for (const v of values) hdrs.append(k, v);
      }
      inflight.push(
        js
          .publish(m.subject, m.data, { msgID: id, headers: hdrs, timeout: opts.publishTimeoutMs ?? 10_000 })
          .then((ack) => {
            if (ack.duplicate) duplicates++;
            else copied++;
            skip?.add(id);
          }),
      );
      if (inflight.length >= PUBLISH_WINDOW) await drain();
    },
    { fromSeq: opts.fromSeq },
  );
  await drain();
  return { copied, skipped, duplicates, cursor };
}
