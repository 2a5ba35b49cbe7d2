/**
 * Proof of "no CDR lost": read the whole stream back with an ephemeral pull consumer (headers only, so
 * a million messages cost no payload traffic) and check that every acknowledged id is stored, once.
 */
import type { JetStreamManager, NatsConnection, StreamInfo } from "nats";
import { StreamNotFoundError } from "../../components/jetstream/errors";
import { idleWatchdog } from "../../components/jetstream/idleWatchdog";
import { retryTransient, type WaitOptions } from "../../components/jetstream/waitFor";
import { IdTally } from "./idTally";

/** How long the stream's API may stay silent after a restart before the read counts as failed. */
const API_SETTLE_MS = 20_000;

export interface VerifyResult {
  /** Messages read from the stream (the stream's message count when it was read). */
  readonly stored: number;
  /** Acknowledged ids not found in the stream. Must be 0. */
  readonly lost: number;
  /** Stored messages whose `Nats-Msg-Id` appeared before in the stream. */
  readonly duplicates: number;
  /** Stored messages without a `Nats-Msg-Id` (not published through JetStream dedupe). */
  readonly withoutId: number;
  /** Up to 10 lost ids, for the report. */
  readonly lostSample: readonly string[];
  readonly firstSeq: number;
  readonly lastSeq: number;
}

export interface VerifyOptions {
  /** Give up when no message arrives for this long. Default 30 000 ms. */
  readonly idleTimeoutMs?: number;
  /**
   * Read only these subjects (e.g. `akira.cdr.failover-test.>`): the failover test checks its own
   * messages without reading every production CDR. Default: the whole stream.
   */
  readonly filterSubject?: string;
}

/** What one read of a stream needs: the stream, its API, and how long the API may stay silent. */
interface StreamRead {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly opts: VerifyOptions;
  readonly settle: WaitOptions;
}

interface ReadBack {
  readonly tally: IdTally;
  readonly stored: number;
  readonly withoutId: number;
}

/** Reads `stream` from its first to its current last sequence and counts against `ackedIds`. */
export async function verifyStream(
  nc: NatsConnection,
  stream: string,
  ackedIds: Iterable<string>,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  // Right after a node restart the API may not answer for a few seconds (a new leader is elected);
  // even getting the manager asks the API (its account info) first.
  const settle = { timeoutMs: API_SETTLE_MS, what: `JetStream API for ${stream}` };
  const jsm = await retryTransient(() => nc.jetstreamManager(), settle);
  const r: StreamRead = { nc, jsm, stream, opts, settle };
  const info = await streamInfo(r);
  const { first_seq: firstSeq, last_seq: lastSeq } = info.state;
  const messages = await messagesToRead(r, info);
  const back =
    messages > 0
      ? await readBack(r, messages, firstSeq, lastSeq)
      : { tally: new IdTally(), stored: 0, withoutId: 0 };
  const { lost, lostSample } = lostIds(ackedIds, back.tally);
  const { stored, tally, withoutId } = back;
  return { stored, lost, duplicates: tally.duplicates, withoutId, lostSample, firstSeq, lastSeq };
}

/** 10059 is the server's "stream not found": callers tell a missing stream from a failed read. */
async function streamInfo(r: StreamRead): Promise<StreamInfo> {
  return retryTransient(() => r.jsm.streams.info(r.stream), r.settle).catch(
    (err: { api_error?: { err_code?: number } }) => {
      if (err.api_error?.err_code === 10059) throw new StreamNotFoundError(r.stream);
      throw err;
    },
  );
}

/** The stream's message count, or with a filter the messages on the filtered subjects. */
async function messagesToRead(r: StreamRead, info: StreamInfo): Promise<number> {
  const filter = r.opts.filterSubject;
  if (filter === undefined) return info.state.messages;
  const filtered = await retryTransient(
    () => r.jsm.streams.info(r.stream, { subjects_filter: filter }),
    r.settle,
  );
  return Object.values(filtered.state.subjects ?? {}).reduce((a, b) => a + b, 0);
}

/** Reads every message up to `lastSeq` (or until nothing is pending), headers only. */
async function readBack(
  r: StreamRead,
  messages: number,
  firstSeq: number,
  lastSeq: number,
): Promise<ReadBack> {
  const name = await addReadConsumer(r);
  const consumer = await retryTransient(() => r.nc.jetstream().consumers.get(r.stream, name), r.settle);
  // Short pulls: right after a node restart a pull was seen to sit out its whole expiry (30 s by
  // default) before the next one was sent; with 2 s that costs at most 2 s.
  const iter = await consumer.consume({ max_messages: 1000, expires: 2000, idle_heartbeat: 1000 });
  const idleTimeoutMs = r.opts.idleTimeoutMs ?? 30_000;
  const watchdog = idleWatchdog(iter, idleTimeoutMs);
  const tally = new IdTally();
  let stored = 0;
  let withoutId = 0;
  try {
    for await (const m of iter) {
      watchdog.touch();
      stored++;
      const id = m.headers?.get("Nats-Msg-Id") ?? "";
      if (id === "") withoutId++;
      else tally.add(id);
      // Messages published while this runs are read too, until the consumer has nothing pending.
      if (m.seq >= lastSeq || m.info.pending === 0) break;
    }
  } finally {
    watchdog.clear();
    iter.stop();
    await r.jsm.consumers.delete(r.stream, name).catch(() => false);
  }
  if (watchdog.fired) {
    throw new Error(
      `verify ${r.stream}: no message for ${idleTimeoutMs} ms after ${stored} of ${messages} (sequence ${firstSeq}–${lastSeq}): is the stream leaderless?`,
    );
  }
  return { tally, stored, withoutId };
}

/**
 * A plain ephemeral pull consumer rather than nats.js's ordered one: that one stays behind on
 * the server after stop() until its inactive threshold, and shows up in the stream's count.
 */
async function addReadConsumer(r: StreamRead): Promise<string> {
  const { AckPolicy, DeliverPolicy } = await import("nats");
  const name = `akira-verify-${crypto.randomUUID().slice(0, 8)}`;
  await retryTransient(
    () =>
      r.jsm.consumers.add(r.stream, {
        name,
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.All,
        headers_only: true,
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: 60_000_000_000,
        ...(r.opts.filterSubject === undefined ? {} : { filter_subject: r.opts.filterSubject }),
      }),
    r.settle,
  );
  return name;
}

/** Acknowledged ids the read did not find: how many, and the first ten for the report. */
function lostIds(ackedIds: Iterable<string>, tally: IdTally): { lost: number; lostSample: string[] } {
  let lost = 0;
  const lostSample: string[] = [];
  for (const id of ackedIds) {
    if (tally.has(id)) continue;
    lost++;
    if (lostSample.length < 10) lostSample.push(id);
  }
  return { lost, lostSample };
}
