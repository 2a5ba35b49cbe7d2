/**
 * `akira-nats failover-test` (runbook steps 9–10): stop one node under CDR traffic and prove that
 * nothing acknowledged is lost. Exit 0 when it passed, 1 when anything was lost, publishing or
 * consuming stalled, or the node never caught up.
 */
import type { Command } from "commander";
import { type ConnectionFlags, connectionTarget, withConnectionFlags } from "../cli/connectionFlags";
import { parseDurationMs } from "../cli/duration";
import { formatCount, formatDuration, renderJson, renderTable } from "../cli/output";
import { UsageError } from "../cli/usageError";
import {
  DEFAULT_LAME_DUCK,
  DEFAULT_START,
  DEFAULT_STOP,
  type FailoverReport,
  runFailoverTest,
} from "../ops/failoverTest";
import { systemTarget } from "../ops/systemTarget";

interface FailoverFlags extends ConnectionFlags {
  stream: string;
  stop: string;
  start: string;
  node?: string;
  host: string[];
  graceful?: boolean;
  lameDuck: string;
  rate: string;
  downFor: string;
  availabilityTimeout: string;
  recoveryTimeout: string;
  subjectPrefix?: string;
  systemUser: string;
  systemPassword?: string;
  json?: boolean;
}

/** `--host nats-1=10.0.1.11` (repeatable, or comma-separated) → `{ "nats-1": "10.0.1.11" }`. */
export function parseHostMap(values: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const item of values.flatMap((v) => v.split(","))) {
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(item.trim());
    if (m === null)
      throw new UsageError(`--host must look like NAME=ADDRESS (e.g. nats-1=10.0.1.11), got "${item}"`);
    map[m[1] as string] = m[2] as string;
  }
  return map;
}

export function renderFailoverReport(r: FailoverReport): string {
  const ms = (v: number | null | undefined) => (v === null || v === undefined ? "-" : `${formatCount(v)} ms`);
  const n = (v: number | null) => (v === null ? "unknown" : formatCount(v));
  const rows: [string, string][] = [
    ["node", `${r.node}${r.host ? ` (${r.host})` : ""}${r.nodeWasLeader ? ", was the stream leader" : ""}`],
    ["mode", r.graceful ? "graceful (leaders moved, lame duck)" : "abrupt stop"],
    ["new leader", r.newLeader === undefined ? "-" : `${r.newLeader} after ${ms(r.leaderElectedMs)}`],
    ["published", formatCount(r.published)],
    ["acked", formatCount(r.acked)],
    ["acked while down", formatCount(r.ackedWhileDown)],
    ["consumed while down", formatCount(r.consumedWhileDown)],
    ["failed attempts (retried)", formatCount(r.failedAttempts)],
    ["never acked", formatCount(r.failed)],
    ["stored", n(r.stored)],
    ["lost", n(r.lost)],
    ["duplicates stored", n(r.duplicates)],
    ["consumed (redelivered)", `${formatCount(r.consumed)} (${formatCount(r.consumedDuplicates)})`],
    ["unavailable (longest gap while down)", ms(r.unavailableMs)],
    ["longest publish gap", ms(r.maxPublishGapMs)],
    ["down for", formatDuration(r.downMs)],
    ["catch-up", r.catchUpMs === null ? "never" : ms(r.catchUpMs)],
    [
      "restarted copy matches",
      r.copyAgrees === null ? "not checked (needs --system-password)" : r.copyAgrees ? "yes" : "NO",
    ],
  ];
  const verdict = r.ok ? "PASSED" : "FAILED";
  const lines = [renderTable(["Failover test", r.stream], rows, { title: `Failover test ${verdict}` })];
  for (const p of r.problems) lines.push(`problem: ${p.message}\n`);
  return lines.join("");
}

export function registerFailoverTest(program: Command): void {
  withConnectionFlags(
    program
      .command("failover-test")
      .description("Stop one node under CDR traffic, start it again, and prove no acknowledged CDR was lost")
      .requiredOption("--stream <name>", "the stream to test, e.g. AKIRA_CDR (needs 3 replicas)")
      .option("--stop <cmd>", "command that stops {node} at {host}, run with sh -c", DEFAULT_STOP)
      .option("--start <cmd>", "command that starts {node} at {host}, run with sh -c", DEFAULT_START)
      .option("--node <name>", "server name of the node to stop (default: the stream leader)")
      .option(
        "--host <name=address>",
        "address for {host}, repeatable (default: the address the server advertises to clients)",
        (v: string, acc: string[]) => [...acc, v],
        [] as string[],
      )
      .option("--graceful", "move leadership away and use lame-duck mode before the stop")
      .option(
        "--lame-duck <cmd>",
        "command that puts {node} into lame-duck mode (--graceful)",
        DEFAULT_LAME_DUCK,
      )
      .option("--rate <n>", "CDRs per second while testing", "200")
      .option("--down-for <duration>", "how long the node stays down once traffic is proven to flow", "3s")
      .option("--availability-timeout <duration>", "how long publish/consume may stall after the stop", "20s")
      .option("--recovery-timeout <duration>", "how long the restarted node may take to catch up", "2m")
      .option("--subject-prefix <subject>", "where test CDRs go (default: <stream subject>.failover-test)")
      .option("--system-user <name>", "system-account user for {host} and --graceful", "system")
      .option("--system-password <secret>", "its password (env NATS_SYSTEM_PASSWORD)")
      .option("--json", "print the report as JSON"),
  ).action(async (flags: FailoverFlags) => {
    const rate = Number(flags.rate);
    if (!Number.isFinite(rate) || rate <= 0 || rate > 50_000) {
      throw new UsageError(
        `--rate must be a number of CDRs per second between 1 and 50000, got "${flags.rate}"`,
      );
    }
    const target = connectionTarget(flags);
    const report = await runFailoverTest({
      target,
      systemTarget: systemTarget(target, flags),
      stream: flags.stream,
      stop: flags.stop,
      start: flags.start,
      node: flags.node,
      hosts: parseHostMap(flags.host),
      graceful: flags.graceful,
      lameDuck: flags.lameDuck,
      subjectPrefix: flags.subjectPrefix,
      ratePerSec: rate,
      downForMs: parseDurationMs(flags.downFor, "--down-for"),
      availabilityTimeoutMs: parseDurationMs(flags.availabilityTimeout, "--availability-timeout"),
      recoveryTimeoutMs: parseDurationMs(flags.recoveryTimeout, "--recovery-timeout"),
      onProgress: (p) =>
        process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${p.phase}: ${p.message}\n`),
    });
    process.stdout.write(flags.json ? renderJson(report) : renderFailoverReport(report));
    if (!report.ok) process.exitCode = 1;
  });
}
