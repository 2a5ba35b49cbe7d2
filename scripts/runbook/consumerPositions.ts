/**
 * Carries durable consumers and their positions from one copy of a stream to another whose
 * sequences differ (a copy by message id renumbers: the rollback appends GA's messages after the
 * pilot's own). Without it the applications' durables on the destination start over (re-billing
 * processed CDRs) or, created fresh with `new`, skip what was never processed.
 *
 * A position is the first message the source's consumer has not acknowledged in order (the
 * message after its ack floor). The same message, found by its Nats-Msg-Id at the destination, is
 * where the destination's consumer starts. JetStream cannot set an ack floor, so that consumer is
 * (re)created with the source's configuration and `deliver_policy: by_start_sequence` at that
 * sequence. Nothing acknowledged in order is delivered again and nothing unacknowledged is
 * skipped; messages acknowledged out of order above the floor, or in flight, are delivered once
 * more (at least once, never lost), and the result counts them.
 */
import { type ConsumerConfig, type ConsumerInfo, DeliverPolicy, type NatsConnection } from "nats";
import { replicaCurrent } from "../../components/jetstream/health";
import { serverLine } from "../../components/jetstream/serverLines";
import { waitFor } from "../../components/jetstream/waitFor";
import { messageId, scanStream } from "./copyMessages";

export type CarriedPosition = {
  readonly durable: string;
  /** The source consumer's ack floor (stream sequence), 0 when it had acknowledged nothing. */
  readonly sourceAckFloor: number;
  /** The id of the first message it had not acknowledged; "" when it had them all. */
  readonly nextId: string;
  /** Where the destination's consumer starts: the same message's sequence there. */
  readonly destinationStartSeq: number;
  /**
   * The destination consumer's ack floor as the server reports it after the carry: start − 1, or
   * 0 until its first delivery on 2.9 and 2.10 (serverLines `startSequenceAckFloor`).
   */
  readonly destinationAckFloor: number;
  /** Messages delivered or acknowledged out of order above the floor: delivered once more. */
  readonly redelivered: number;
};

/** Where one source consumer resumes, by message id (or after the source's last message). */
interface Resume {
  readonly info: ConsumerInfo;
  /** The first unacknowledged message's id; undefined when the consumer had acknowledged all. */
  readonly nextId?: string;
}

/** The source's durables and where each resumes. Ephemeral consumers belong to live clients: left. */
async function sourcePositions(
  src: NatsConnection,
  stream: string,
): Promise<{ resumes: Resume[]; lastSeq: number }> {
  const jsm = await src.jetstreamManager();
  const consumers = (await jsm.consumers.list(stream).next()).filter((c) => c.config.durable_name);
  const lastSeq = (await jsm.streams.info(stream)).state.last_seq;
  const resumes: Resume[] = [];
  for (const info of consumers) {
    const floor = info.ack_floor.stream_seq;
    resumes.push({ info, ...(floor < lastSeq ? { nextId: await firstIdFrom(src, stream, floor + 1) } : {}) });
  }
  return { resumes, lastSeq };
}

/** The id of the first message at or after `seq` (a floor's next may be deleted or expired). */
async function firstIdFrom(nc: NatsConnection, stream: string, seq: number): Promise<string> {
  const consumer = await nc.jetstream().consumers.get(stream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: seq,
  });
  try {
    const m = await consumer.next({ expires: 5000 });
    if (m === null) {
      throw new Error(`no message of ${stream} at or after sequence ${seq} arrived within 5 s`);
    }
    return messageId(m.subject, m.data, m.headers);
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

/** Destination sequences of the wanted ids, and of the source's last message (for "acked all"). */
async function destinationSequences(
  dst: NatsConnection,
  stream: string,
  wanted: ReadonlySet<string>,
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (wanted.size === 0) return found;
  await scanStream(dst, stream, (m) => {
    const id = messageId(m.subject, m.data, m.headers);
    if (wanted.has(id)) found.set(id, m.seq);
  });
  return found;
}

/**
 * The source's configuration, started at `startSeq`, in a form the destination's line accepts:
 * replicas follow the destination stream, the server's own `_nats.*` metadata stays behind, and
 * towards 2.9 a single `filter_subjects` becomes `filter_subject`. What cannot be carried is named.
 */
function carriedConfig(
  config: ConsumerConfig,
  startSeq: number,
  destinationVersion: string,
): Partial<ConsumerConfig> {
  const { deliver_policy, opt_start_seq, opt_start_time, num_replicas, metadata, filter_subjects, ...rest } =
    config;
  const own = Object.fromEntries(Object.entries(metadata ?? {}).filter(([k]) => !k.startsWith("_nats.")));
  const newer = serverLine(destinationVersion).consumerMetadata;
  const durable = config.durable_name;
  if (!newer && Object.keys(own).length > 0) {
    throw new Error(
      `consumer ${durable} has metadata (${Object.keys(own).join(", ")}), which nats-server ${destinationVersion} does not keep: remove it from the consumer, or carry it by hand`,
    );
  }
  if (!newer && (filter_subjects?.length ?? 0) > 1) {
    throw new Error(
      `consumer ${durable} filters ${filter_subjects?.length} subjects, which nats-server ${destinationVersion} cannot: split it into one consumer per subject first`,
    );
  }
  return {
    ...rest,
    ...(Object.keys(own).length > 0 ? { metadata: own } : {}),
    ...(filter_subjects === undefined || filter_subjects.length === 0
      ? {}
      : newer
        ? { filter_subjects }
        : { filter_subject: filter_subjects[0] }),
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: startSeq,
  };
}

/**
 * Carries every durable of `stream` from `src` to `dst`. Run it with the publishers paused and
 * every source message already at the destination; the applications' consumers still read the
 * source until they are pointed at the destination, so what they acknowledge after this call is
 * delivered there once more.
 */
export async function carryConsumerPositions(
  src: NatsConnection,
  dst: NatsConnection,
  stream: string,
  log: (line: string) => void = () => {},
): Promise<CarriedPosition[]> {
  const { resumes, lastSeq: srcLast } = await sourcePositions(src, stream);
  if (resumes.length === 0) return [];
  // "Acknowledged all" resumes after the source's last message, found at the destination by id.
  const lastId = srcLast > 0 ? await firstIdFrom(src, stream, srcLast) : undefined;
  const wanted = new Set([
    ...resumes.flatMap((r) => (r.nextId ? [r.nextId] : [])),
    ...(lastId ? [lastId] : []),
  ]);
  const seqs = await destinationSequences(dst, stream, wanted);
  const dstJsm = await dst.jetstreamManager();
  const dstLast = (await dstJsm.streams.info(stream)).state.last_seq;
  const carried: CarriedPosition[] = [];
  for (const { info, nextId } of resumes) {
    const durable = info.config.durable_name as string;
    const id = nextId ?? lastId;
    const at = id === undefined ? undefined : seqs.get(id);
    if (id !== undefined && at === undefined) {
      throw new Error(
        `consumer ${durable}: message "${id}" of ${stream} is not at the destination, so its position cannot be carried; copy the messages first (run with --resume)`,
      );
    }
    const startSeq = at === undefined ? dstLast + 1 : nextId === undefined ? at + 1 : at;
    const config = carriedConfig(info.config, startSeq, dst.info?.version ?? "");
    await dstJsm.consumers.delete(stream, durable).catch(() => false);
    await dstJsm.consumers.add(stream, config);
    const now = await dstJsm.consumers.info(stream, durable);
    const position: CarriedPosition = {
      durable,
      sourceAckFloor: info.ack_floor.stream_seq,
      nextId: nextId ?? "",
      destinationStartSeq: startSeq,
      destinationAckFloor: now.ack_floor.stream_seq,
      redelivered: Math.max(0, info.delivered.stream_seq - info.ack_floor.stream_seq),
    };
    log(
      `${durable}: acknowledged up to source sequence ${position.sourceAckFloor}; starts at destination sequence ${startSeq}${nextId ? ` (message ${nextId})` : " (after the last message)"}, ${position.redelivered} in flight delivered again`,
    );
    carried.push(position);
  }
  return carried;
}

/** Every durable of `stream` as it is now: configuration and position, to be put back if lost. */
export async function rememberDurables(nc: NatsConnection, stream: string): Promise<ConsumerInfo[]> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.consumers.list(stream).next()).filter((c) => c.config.durable_name);
}

/**
 * Checks each remembered durable against the stream: one that is gone, or behind its remembered
 * ack floor, is created again (same stream, same sequences) right after that floor. Returns the
 * names put back. A durable that is merely leaderless for a moment is waited for, not replaced.
 */
export async function restoreDurables(
  nc: NatsConnection,
  stream: string,
  remembered: readonly ConsumerInfo[],
  log: (line: string) => void = () => {},
): Promise<string[]> {
  const jsm = await nc.jetstreamManager();
  const streamReplicas = (await jsm.streams.info(stream)).config.num_replicas;
  const putBack: string[] = [];
  for (const before of remembered) {
    const name = before.config.durable_name as string;
    const floor = before.ack_floor.stream_seq;
    // Judged once its group has a leader and every replica caught up: a follower still
    // recovering can take over and report another position than the one read too early.
    const settled = async () => {
      const info = await jsm.consumers
        .info(stream, name)
        .catch((err: { api_error?: { err_code?: number } }) => {
          if (err.api_error?.err_code === 10014) return null;
          throw err;
        });
      if (info === null || info.cluster === undefined) return info;
      const followers = info.cluster.replicas ?? [];
      // Also once its group has every copy: a copy placed later can win an election with nothing
      // in it (seen on 2.9.10, the durable then back at ack floor 0).
      const copies = before.config.num_replicas || streamReplicas;
      return info.cluster.leader &&
        1 + followers.length === copies &&
        followers.every((r) => replicaCurrent(r, Number.POSITIVE_INFINITY))
        ? info
        : undefined;
    };
    const now = await waitFor(settled, {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: `consumer ${name} of ${stream} with a leader and its replicas current`,
    });
    if (now !== null && now.ack_floor.stream_seq >= floor) continue;
    log(
      `consumer ${name} ${now === null ? "is gone" : `is back at ack floor ${now.ack_floor.stream_seq}`}; it was at ${floor}: creating it again from sequence ${floor + 1}`,
    );
    const config = carriedConfig(before.config, floor + 1, nc.info?.version ?? "");
    if (now !== null) await jsm.consumers.delete(stream, name);
    await jsm.consumers.add(stream, config);
    putBack.push(name);
  }
  return putBack;
}
