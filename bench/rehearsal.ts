/**
 * `npm run bench:rehearsal [-- --messages 100000] [--rate 1000]`: the whole rehearsal (cutover,
 * SIGKILL of the stream leader, catch-up, rollback) under a CDR stream of `--messages` at `--rate`
 * per second, and the figures the runbook's 2-hour window is judged by: publisher pause at the
 * cutover (target < 5 s), loss (target 0), failover unavailability, catch-up time and end-to-end
 * time. Random ports; the report and timeline go to `--report` (default `.rehearsal-bench`).
 */
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { rehearse } from "../scripts/rehearsal/rehearse";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    rate: { type: "string", default: "1000" },
    report: { type: "string", default: ".rehearsal-bench" },
  },
});

const WINDOW_MS = 2 * 60 * 60 * 1000;

async function main(): Promise<number> {
  const messages = Number(values.messages);
  const rate = Number(values.rate);
  const started = Date.now();
  const r = await rehearse({
    messages,
    ratePerSec: rate,
    ports: "random",
    reportDir: values.report,
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
  const rows: [string, string, string][] = [
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
  process.stdout.write(
    `\nrehearsal benchmark: ${messages} CDRs at ${rate}/s, ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(2)}\n`,
  );
  for (const [k, v, note] of rows) process.stdout.write(`  ${k.padEnd(40)} ${v.padStart(22)}  ${note}\n`);
  process.stdout.write(`  ${r.ok ? "OK" : `FAILED: ${r.failures.join("; ")}`}\n`);
  return r.ok ? 0 : 1;
}

main().then((code) => {
  process.exitCode = code;
});
