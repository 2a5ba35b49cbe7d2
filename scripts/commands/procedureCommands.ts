/**
 * What `akira-nats cutover` and `akira-nats rollback` share: flags, the journal, the plan, the
 * progress output and the exit code. The procedures themselves are cutover.ts and rollback.ts.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { parseDurationOrMs } from "../cli/duration";
import { UsageError } from "../cli/usageError";
import { DEFAULT_START, DEFAULT_STOP } from "../ops/failoverTest";
import { ProcedureContext } from "../runbook/context";
import { cutoverSteps } from "../runbook/cutover";
import { commandHooks, type HookFlags, hookCommands } from "../runbook/hooks";
import type { Infra } from "../runbook/infra";
import { journalPath } from "../runbook/journal";
import { jsonLinesReporter, textReporter } from "../runbook/reporters";
import { rollbackSteps } from "../runbook/rollback";
import { failoverRunner, monitorStarter } from "../runbook/runners";
import { formatPlan, openJournal, runSteps, type Step } from "../runbook/steps";

export type ProcedureName = "cutover" | "rollback";

export interface ProcedureFlags extends HookFlags {
  stack: string;
  pilotStack: string;
  gaStack: string;
  stateDir: string;
  workDir: string;
  dryRun?: boolean;
  resume?: boolean;
  json?: boolean;
  timeout: string;
  failoverStop: string;
  failoverStart: string;
  hookStopNodes?: string;
}

/** Adds the flags both procedures take. */
export function withProcedureFlags(cmd: Command, defaultStack: string): Command {
  return cmd
    .requiredOption("--stack <name>", `the stack the procedure moves to (${defaultStack})`)
    .option("--pilot-stack <name>", "the pilot's stack", "staging")
    .option("--ga-stack <name>", "the cluster's stack", "ga")
    .option("--state-dir <dir>", "journal and backups", ".akira-nats")
    .option("--work-dir <dir>", "the directory holding Pulumi.yaml", ".")
    .option("--dry-run", "print the plan and change nothing")
    .option("--resume", "continue an interrupted run from its last good step (see the journal)")
    .option("--json", "JSON lines instead of text")
    .option(
      "--timeout <duration>",
      "limit for each wait (replicas current, restore, health): a duration (2m, 90s) or milliseconds",
      "2m",
    )
    .option("--hooks <file>", 'operator hooks as JSON: {"pause": "…", "resume": "…", "point": "…"}')
    .option("--hook-pause <command>", "pauses the publishers (env AKIRA_NATS_HOOK_PAUSE)")
    .option("--hook-resume <command>", "resumes the publishers (env AKIRA_NATS_HOOK_RESUME)")
    .option(
      "--hook-point <command>",
      "points the applications at $AKIRA_NATS_URL (env AKIRA_NATS_HOOK_POINT)",
    )
    .option("--hook-stop-nodes <command>", "stops the GA nodes, disks kept (env AKIRA_NATS_HOOK_STOP_NODES)")
    .option("--failover-stop <template>", "stops a node in the failover test ({node}, {host})", DEFAULT_STOP)
    .option("--failover-start <template>", "starts it again", DEFAULT_START);
}

/** The steps of a procedure, for the plan and the run. */
export function procedureSteps(name: ProcedureName, runId: string): Step<ProcedureContext>[] {
  return name === "cutover" ? cutoverSteps(runId) : rollbackSteps(runId);
}

export interface RunProcedureDeps {
  /** The infrastructure; the commands use the Pulumi Automation API. */
  readonly infra: (flags: ProcedureFlags) => Infra | Promise<Infra>;
  readonly write?: (text: string) => void;
}

/** Runs (or plans) a procedure from parsed flags; resolves with the exit code. */
export async function runProcedureCommand(
  name: ProcedureName,
  flags: ProcedureFlags,
  deps: RunProcedureDeps,
): Promise<number> {
  const write = deps.write ?? ((t: string) => process.stdout.write(t));
  const expected = name === "cutover" ? flags.gaStack : flags.pilotStack;
  if (flags.stack !== expected) {
    throw new UsageError(
      `${name} moves to the ${name === "cutover" ? "cluster" : "pilot"} stack "${expected}", not "${flags.stack}": use --stack ${expected} (or set --${name === "cutover" ? "ga" : "pilot"}-stack)`,
    );
  }
  const timeoutMs = parseDurationOrMs(flags.timeout, "--timeout");
  const stateDir = resolve(flags.stateDir);
  const path = journalPath(stateDir, name, flags.stack);
  if (flags.dryRun) {
    if (flags.resume) throw new UsageError("--dry-run and --resume exclude each other");
    write(formatPlan(name, flags.stack, procedureSteps(name, "dry-run")));
    write(`journal: ${path}\n`);
    return 0;
  }
  const journal = openJournal(path, name, flags.stack, flags.resume === true);
  const runId = journal.createdAt.replace(/[:.]/g, "-");
  const infra = await deps.infra(flags);
  const ctx = new ProcedureContext(
    infra,
    commandHooks(hookCommands(flags)),
    { pilotStack: flags.pilotStack, gaStack: flags.gaStack, stateDir, timeoutMs },
    failoverRunner({ stop: flags.failoverStop, start: flags.failoverStart }),
    monitorStarter(
      (url, stream) =>
        `akira-nats monitor -s ${url} --duration 24h  # streams incl. ${stream}, disk, consumer backlog`,
    ),
  );
  try {
    const result = await runSteps({
      procedure: name,
      steps: procedureSteps(name, runId),
      ctx,
      journal,
      resume: flags.resume === true,
      reporter: flags.json ? jsonLinesReporter(write, name) : textReporter(write),
    });
    if (!result.ok) {
      if (!flags.json) write(`journal: ${path} (fix the cause, then run again with --resume)\n`);
      return 1;
    }
    return 0;
  } finally {
    await ctx.close();
  }
}
