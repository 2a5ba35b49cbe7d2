/**
 * Ctrl-C and SIGTERM for the CLI. A command that can stop cleanly (a backup, a restore) watches
 * for them: the first signal aborts its `AbortSignal`, the operation removes what it had half
 * written and says what state things are in, and the command exits 130 (SIGINT) or 143 (SIGTERM).
 * With no watcher, or on a second signal, or if the clean stop takes over 10 s, the process exits
 * at once with that code, as it would without handlers.
 */
const controller = new AbortController();
let received: NodeJS.Signals | undefined;
let watchers = 0;

/** Gives up on a clean stop after this long. */
const CLEAN_STOP_MS = 10_000;

export const interruption = {
  /** The signal that interrupted the command, if one did. */
  received: (): NodeJS.Signals | undefined => received,
};

/** Watches for SIGINT/SIGTERM while `fn` runs; `fn` gets the signal to stop on. */
export async function whileWatchingInterrupts<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  watchers++;
  try {
    return await fn(controller.signal);
  } finally {
    watchers--;
  }
}

/** The exit code a shell reports for a process ended by `signal`. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === "SIGINT" ? 130 : 143;
}

/** Installs the handlers (once, from the CLI's entry point). */
export function installInterruptHandlers(): void {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      if (received !== undefined || watchers === 0) process.exit(signalExitCode(received ?? sig));
      received = sig;
      controller.abort(new Error(`interrupted by ${sig}`));
      setTimeout(() => process.exit(signalExitCode(sig)), CLEAN_STOP_MS).unref();
    });
  }
}
