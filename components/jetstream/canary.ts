/**
 * The canary publish after every replica change. nats-server#7996: after R3→R1→R3 a stream can
 * come back without subscriptions on its subjects, so publishes are silently dropped while stream
 * info looks healthy. A publish acknowledged by the stream is the only proof that it stores again.
 *
 * The canary must not look like a CDR: it carries the `Akira-Canary` header and a Nats-Msg-Id
 * starting `akira-canary-`, goes to the subject `<prefix>._akira_canary`, and is deleted again right
 * after the ack (unless the stream denies deletes), so consumers that have not read it yet skip it
 * and stream counts stay equal to the CDRs taken.
 */
import type { NatsConnection } from "nats";
import { AkiraNatsError } from "./errors";
import { jsApiRequest } from "./jsApiRequest";

export const CANARY_HEADER = "Akira-Canary";
export const CANARY_TOKEN = "_akira_canary";

/**
 * A concrete subject inside the stream's first subject: wildcards become the canary token,
 * `akira.cdr.>` → `akira.cdr._akira_canary`, `a.*.b` → `a._akira_canary.b`, a literal stays itself.
 */
export function canarySubject(subjects: readonly string[]): string {
  const first = subjects[0];
  if (first === undefined || first.length === 0) {
    throw new AkiraNatsError("canary", "the stream has no subjects: a canary publish needs one");
  }
  return first
    .split(".")
    .map((t) => (t === ">" || t === "*" ? CANARY_TOKEN : t))
    .join(".");
}

export interface CanaryResult {
  readonly subject: string;
  readonly seq: number;
  /** False when the stream denies deletes (`deny_delete`): the canary stays, identifiable by its header. */
  readonly deleted: boolean;
  readonly ackMs: number;
}

/** Publishes one canary, waits for the stream's ack, then deletes it. */
export async function publishCanary(
  nc: NatsConnection,
  stream: string,
  subjects: readonly string[],
  opts: { readonly timeoutMs?: number; readonly keep?: boolean; readonly denyDelete?: boolean } = {},
): Promise<CanaryResult> {
  const { headers } = await import("nats");
  const subject = canarySubject(subjects);
  const id = `akira-canary-${crypto.randomUUID()}`;
  const h = headers();
  h.set(CANARY_HEADER, id);
  const started = Date.now();
  let seq: number;
  try {
    const ack = await nc
      .jetstream()
      .publish(subject, new TextEncoder().encode(JSON.stringify({ canary: id })), {
        msgID: id,
        headers: h,
        expect: { streamName: stream },
        timeout: opts.timeoutMs ?? 5000,
      });
    seq = ack.seq;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why =
      code === "503"
        ? "no stream listens on that subject (nats-server#7996: subjects lost after a replica change)"
        : (err as Error).message;
    throw new AkiraNatsError(
      "canary",
      `canary publish to ${subject} was not acknowledged by ${stream}: ${why}: step the stream leader down (nats stream cluster step-down ${stream}) or restart its leader, then re-run`,
      { cause: err },
    );
  }
  const ackMs = Date.now() - started;
  if (opts.keep || opts.denyDelete) return { subject, seq, deleted: false, ackMs };
  await jsApiRequest(nc, `$JS.API.STREAM.MSG.DELETE.${stream}`, { seq, no_erase: true }, { stream });
  return { subject, seq, deleted: true, ackMs };
}
