/**
 * Call detail records as the AKIRA billing pipeline publishes them: one JSON object per call, its
 * id repeated as the `Nats-Msg-Id` header so JetStream's duplicate window makes a retry safe.
 */

export interface CdrRecord {
  readonly id: string;
  readonly callId: string;
  readonly caller: string;
  readonly callee: string;
  /** ISO 8601 start of the call. */
  readonly start: string;
  readonly durationSec: number;
  readonly customerId: string;
}

const CUSTOMERS = 64;

/** A deterministic, realistic-looking CDR for message number `n` of run `runId`. */
export function cdrRecord(runId: string, n: number, now = Date.now()): CdrRecord {
  const h = mix(n);
  const durationSec = h % 1800;
  return {
    id: cdrId(runId, n),
    callId: `${runId}.${n.toString(36)}`,
    caller: `+49${(1_500_000_000 + (h % 99_999_999)).toString()}`,
    callee: `+49${(3_000_000_000 + (mix(h) % 899_999_999)).toString()}`,
    start: new Date(now - durationSec * 1000).toISOString(),
    durationSec,
    customerId: `c${(h % CUSTOMERS).toString().padStart(3, "0")}`,
  };
}

/**
 * `<runId>-<n>`: the counter at the end lets {@link IdTally} count millions of ids in a bitmap
 * instead of a set of strings.
 */
export function cdrId(runId: string, n: number): string {
  return `${runId}-${n}`;
}

/** A short random run id, so runs against the same stream never share message ids. */
export function newRunId(): string {
  return `cdr${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
}

function mix(n: number): number {
  let x = (n + 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}
