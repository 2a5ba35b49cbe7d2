/**
 * The one way this project waits: poll a condition until it holds or a deadline passes, and say
 * what was waited for when it gives up. Also the one way to ride out a JetStream API request that
 * timed out while the cluster elects a leader (a restarted node: about 5 s on 2.9, 8 s on 2.15).
 */

export interface WaitOptions {
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** Between two tries. Default 100 ms. */
  readonly intervalMs?: number;
  /** What is waited for, for the error: "nats-2's replica to be current"; a function sees the last try. */
  readonly what: string | (() => string);
}

const describe = (opts: WaitOptions) => (typeof opts.what === "string" ? opts.what : opts.what());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Thrown by a condition that knows waiting longer cannot help (the process it waits for died). */
export class StopWaiting extends Error {
  override name = "StopWaiting";
}

/**
 * Resolves with the first defined value `condition` returns; rejects naming `what` and the last
 * error the condition threw (a condition may throw while the thing is not there yet), or at once
 * with a {@link StopWaiting} it threw.
 */
export async function waitFor<T>(condition: () => Promise<T | undefined>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last === undefined ? "" : ` (last error: ${(last as Error).message})`;
      throw new Error(`gave up waiting for ${describe(opts)} after ${opts.timeoutMs} ms${why}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

/** A request that got no answer in time, or found nobody listening: worth another try. */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  if (
    code === "TIMEOUT" ||
    code === "503" ||
    /\bTIMEOUT\b|no responders/i.test((err as Error)?.message ?? "")
  ) {
    return true;
  }
  // A wrapped request error (streams.ts `js-unavailable`) is as transient as its cause.
  const cause = (err as { cause?: unknown })?.cause;
  return cause !== undefined && cause !== err && isTransient(cause);
}

/** Runs `request` again while it fails transiently, until `timeoutMs`; any other error at once. */
export async function retryTransient<T>(request: () => Promise<T>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    try {
      return await request();
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (Date.now() >= deadline) {
        throw new Error(
          `${describe(opts)}: no answer within ${opts.timeoutMs} ms (${(err as Error).message})`,
          {
            cause: err,
          },
        );
      }
      await sleep(opts.intervalMs ?? 250);
    }
  }
}
