/** Durations on the command line as Go and the `nats` CLI write them: `500ms`, `30s`, `5m`, `24h`, `1h30m`. */
import { UsageError } from "./usageError";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `value` for `flag`; a bad value is a {@link UsageError} naming the flag and an example. */
export function parseDurationMs(value: string, flag: string): number {
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  const joined = parts.map((p) => p[0]).join("");
  if (parts.length === 0 || joined !== value) {
    throw new UsageError(`${flag} must be a duration such as 500ms, 30s, 5m or 1h30m, got "${value}"`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] ?? "s"] ?? 0), 0);
}

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A time flag: a duration like the nats CLI's (`5s`, `500ms`, `2m`) or, as these flags always
 * took, a bare number of milliseconds; positive and within Node's timer limit.
 */
export function parseDurationOrMs(value: string, flag: string): number {
  let ms = Number.NaN;
  if (/^\d+$/.test(value)) ms = Number(value);
  else {
    try {
      ms = Math.round(parseDurationMs(value, flag));
    } catch {
      ms = Number.NaN;
    }
  }
  if (!Number.isInteger(ms) || ms <= 0 || ms > MAX_TIMER_MS) {
    throw new UsageError(
      `${flag} must be a positive duration (5s, 500ms, 2m) or milliseconds, at most ${MAX_TIMER_MS} ms (24.8 days), got "${value}"`,
    );
  }
  return ms;
}
