/**
 * `npm run bench:rehearsal [-- --messages 100000] [--rate 1000]`: the whole rehearsal (cutover,
 * SIGKILL of the stream leader, catch-up, rollback) under a CDR stream of `--messages` at `--rate`
 * per second, and the figures the runbook's 2-hour window is judged by: publisher pause at the
 * cutover (target < 5 s), loss (target 0), failover unavailability, catch-up time and end-to-end
 * time. Random ports; the report and timeline go to `--report` (default `.rehearsal-bench`).
 * Runs once per nats-server line (bench/lines.ts; `--nats-server PATH,PATH`) and prints the lines
 * side by side.
 */
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { binaryVersion, natsServerBin } from "../scripts/local/natsServerBin";
import { rehearse } from "../scripts/rehearsal/rehearse";
import { benchLines, measuringOneLine, reportResult, runPerLine } from "./lines";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    rate: { type: "string", default: "1000" },
    report: { type: "string", default: ".rehearsal-bench" },
    "nats-server": { type: "string", multiple: true },
  },
});

type Row = [label: string, value: string, note: string];
interface LineResult {
  readonly ok: boolean;
  readonly failures: readonly string[];
  readonly rows: Row[];
}

const WINDOW_MS = 2 * 60 * 60 * 1000;

/** Child: the rehearsal on the line NATS_SERVER_BIN names, its figures as rows. */
async function measureLine(): Promise<LineResult> {
  const messages = Number(values.messages);
  const rate = Number(values.rate);
  const started = Date.now();
  const r = await rehearse({
    messages,
    ratePerSec: rate,
    ports: "random",
    // One report per line, so the second line's run does not overwrite the first's.
    reportDir: join(values.report, binaryVersion(natsServerBin()) ?? "unknown"),
    write: (line) => {
      if (/^(cutover|rollback): \[|^rehearsal|^GA after|^final/.test(line)) process.stdout.write(line);
    },
  });
  const total = Date.now() - started;
  const step = (name: string) => r.steps.find((s) => s.name === name)?.durationMs ?? 0;
  const cutoverMs = r.steps
    .filter((s) => s.name.startsWith("cutover:"))
    .reduce((a, s) => a + s.durationMs, 0);
  const rollbackMs = r.steps
    .filter((s) => s.name.startsWith("rollback:"))
    .reduce((a, s) => a + s.durationMs, 0);
  const ms = (v: number | null) => (v === null ? "-" : `${v} ms`);
  const rows: Row[] = [
    ["CDRs published / acked / stored", `${r.published} / ${r.acked} / ${r.stored}`, ""],
    ["lost", String(r.lost), r.lost === 0 ? "target 0: met" : "target 0: MISSED"],
    ["duplicates", String(r.duplicates), ""],
    [
      "publisher pause at cutover",
      ms(r.publisherPauseMs),
      r.publisherPauseMs !== null && r.publisherPauseMs < 5000 ? "target < 5 s: met" : "target < 5 s: MISSED",
    ],
    ["publisher pause at rollback", ms(r.rollbackPauseMs), ""],
    ["failover unavailability (SIGKILL)", ms(r.failoverUnavailableMs), ""],
    ["catch-up of the killed node", ms(r.catchUpMs), ""],
    ["cutover steps, total", ms(cutoverMs), ""],
    [
      "  of which restore / copy since backup",
      `${ms(step("cutover:restore-into-ga"))} / ${ms(step("cutover:copy-since-backup"))}`,
      "",
    ],
    ["rollback steps, total", ms(rollbackMs), ""],
    ["  of which carry GA messages", ms(step("rollback:carry-ga-messages")), ""],
    [
      "end to end (incl. traffic)",
      ms(total),
      `${((total / WINDOW_MS) * 100).toFixed(1)} % of the runbook's 2-hour window`,
    ],
  ];
  return { ok: r.ok, failures: r.failures, rows };
}

async function main(): Promise<number> {
  if (measuringOneLine()) {
    reportResult(await measureLine());
    return 0;
  }
  const lines = benchLines(process.argv);
  const perLine = await runPerLine<LineResult>(__filename, process.argv.slice(2), lines);
  process.stdout.write(
    `\nrehearsal benchmark: ${values.messages} CDRs at ${values.rate}/s, ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(2)}\n`,
  );
  const first = perLine[0]?.[1].rows ?? [];
  process.stdout.write(
    `  ${"".padEnd(40)} ${lines.map((l) => `nats-server ${l.version}`.padStart(26)).join("")}\n`,
  );
  first.forEach(([label], i) => {
    const cells = perLine.map(([, r]) => {
      const [, value, note] = r.rows[i] as Row;
      return `${value}${note.startsWith("target") ? (note.endsWith("met") ? " ✓" : " ✗") : ""}`.padStart(26);
    });
    process.stdout.write(`  ${label.padEnd(40)} ${cells.join("")}\n`);
  });
  for (const [line, r] of perLine) {
    process.stdout.write(
      `  nats-server ${line.version}: ${r.ok ? "OK" : `FAILED: ${r.failures.join("; ")}`}\n`,
    );
  }
  return perLine.every(([, r]) => r.ok) ? 0 : 1;
}

main().then((code) => {
  process.exitCode = code;
});
