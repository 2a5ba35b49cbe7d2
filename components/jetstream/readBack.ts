/**
 * Reading a stream back: counts the messages from one sequence to another through an ordered
 * consumer (which re-creates itself at the right place after a hiccup), so a check can say that
 * every message the state promises is really there and readable, not only that the counters agree.
 */
import { DeliverPolicy, type NatsConnection } from "nats";
import { AkiraNatsError } from "./errors";

export interface ReadBackOptions {
  /** Give up when no message arrives for this long. Default 15000 ms. */
  readonly idleTimeoutMs?: number;
}

/** Messages readable with sequences in `fromSeq..untilSeq`. */
export async function countReadable(
  nc: NatsConnection,
  stream: string,
  fromSeq: number,
  untilSeq: number,
  opts: ReadBackOptions = {},
): Promise<number> {
  if (untilSeq < fromSeq) return 0;
  const consumer = await nc.jetstream().consumers.get(stream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, fromSeq),
    headers_only: false,
  });
  const messages = await consumer.consume({ max_messages: 1000 });
  const idleMs = opts.idleTimeoutMs ?? 15_000;
  let count = 0;
  let last = fromSeq - 1;
  let idle: NodeJS.Timeout | undefined;
  let stalled = false;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      stalled = true;
      messages.stop();
    }, idleMs);
  };
  try {
    arm();
    for await (const m of messages) {
      arm();
      if (m.seq > untilSeq) break;
      count++;
      last = m.seq;
      if (m.seq >= untilSeq || m.info.pending === 0) break;
    }
  } finally {
    clearTimeout(idle);
    messages.stop();
    await consumer.delete().catch(() => undefined);
  }
  if (stalled) {
    throw new AkiraNatsError(
      "read-stalled",
      `reading ${stream} back stalled at sequence ${last} of ${untilSeq} (nothing for ${idleMs} ms): check that the stream has a leader (akira-nats stream info ${stream})`,
    );
  }
  return count;
}
