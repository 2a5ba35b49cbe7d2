/**
 * A one-line progress bar on stderr (bytes, rate, ETA), redrawn at most every 100 ms. Silent when
 * stderr is not a terminal or with `--json`, so logs and pipes stay clean.
 */
import { formatBytes, formatDuration } from "./output";

export interface ProgressBar {
  /** `done` of `total` bytes; `total` may change (e.g. when the server tells the size). */
  update(done: number, total?: number): void;
  /** Replaces the label (e.g. "finalizing"). */
  label(text: string): void;
  /** Clears the line. */
  finish(): void;
}

export interface ProgressOptions {
  readonly label: string;
  readonly total?: number;
  /** Draw at all. Default: stderr is a TTY. */
  readonly enabled?: boolean;
  readonly stream?: NodeJS.WriteStream;
}

const SILENT: ProgressBar = { update() {}, label() {}, finish() {} };

/** One bar line: `label [#####-----]  42%  12.0 MiB/28.6 MiB  35.1 MiB/s  ETA 0.5s`. */
export function renderBar(label: string, done: number, total: number, elapsedMs: number, width = 24): string {
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(frac * width);
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  // The first second's rate says little (connection set-up, the server preparing the snapshot).
  const eta =
    elapsedMs >= 1000 && rate > 0 && total > done ? formatDuration(((total - done) / rate) * 1000) : "-";
  return `${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(frac * 100)).padStart(3)}%  ${formatBytes(done)}/${formatBytes(total)}  ${formatBytes(rate)}/s  ETA ${eta}`;
}

export function createProgress(opts: ProgressOptions): ProgressBar {
  const stream = opts.stream ?? process.stderr;
  if (!(opts.enabled ?? stream.isTTY === true)) return SILENT;
  const started = Date.now();
  let label = opts.label;
  let total = opts.total ?? 0;
  let done = 0;
  let lastDraw = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    stream.write(`\r\x1b[2K${renderBar(label, done, total, now - started)}`);
  };
  return {
    update(d, t) {
      done = d;
      if (t !== undefined) total = t;
      draw();
    },
    label(text) {
      label = text;
      draw(true);
    },
    finish() {
      stream.write("\r\x1b[2K");
    },
  };
}
