/**
 * Stops a message iterator when nothing arrives for a while, so a read of a leaderless stream
 * ends with a clear error instead of waiting forever. `touch()` on every message; `clear()` when
 * the read is over; `fired` says whether the iterator was stopped for being idle.
 */
export interface IdleWatchdog {
  touch(): void;
  clear(): void;
  readonly fired: boolean;
}

export function idleWatchdog(messages: { stop(): void }, idleMs: number): IdleWatchdog {
  let timer: NodeJS.Timeout | undefined;
  let fired = false;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      fired = true;
      messages.stop();
    }, idleMs);
  };
  touch();
  return {
    touch,
    clear: () => clearTimeout(timer),
    get fired() {
      return fired;
    },
  };
}
