/**
 * Output helpers shared by the CLI's commands: aligned text tables like the `nats` CLI's, `--json`
 * output, and human units. Commands print results to stdout and nothing else there, so `--json`
 * output can be piped.
 */

export type Cell = string | number | boolean | undefined;

export interface TableOptions {
  /** A title line above the table. */
  readonly title?: string;
  /** A totals row under the table, separated by a rule. */
  readonly footer?: readonly Cell[];
}

function cellText(c: Cell): string {
  if (c === undefined) return "";
  if (typeof c === "boolean") return c ? "yes" : "no";
  return String(c);
}

/** Renders rows under headers with columns padded to their widest cell; numbers right-aligned. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  opts: TableOptions = {},
): string {
  const all = [headers, ...rows, ...(opts.footer ? [opts.footer] : [])].map((r) => r.map(cellText));
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number"));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const out: string[] = [];
  if (opts.title !== undefined) out.push(opts.title, "");
  out.push(line(all[0] ?? []), rule);
  for (const r of all.slice(1, rows.length + 1)) out.push(line(r));
  if (opts.footer) out.push(rule, line(all[all.length - 1] ?? []));
  return `${out.join("\n")}\n`;
}

/** Pretty JSON with a trailing newline, for `--json`. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** 93784000 → "1d2h3m4s"; below a minute with one decimal: "4.2s". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${d > 0 ? `${d}d` : ""}${d > 0 || h > 0 ? `${h}h` : ""}${m}m${s}s`;
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}
