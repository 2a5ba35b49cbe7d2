/**
 * `akira-nats cutover --stack ga`: Move AKIRA_CDR from the pilot to the GA cluster (runbook steps 2–11), without loss. Steps, journal and
 * `--resume` are scripts/runbook/; `--dry-run` prints the plan.
 */
import type { Command } from "commander";
import { type ProcedureFlags, runProcedureCommand, withProcedureFlags } from "./procedureCommands";

export function registerCutover(program: Command): void {
  withProcedureFlags(
    program
      .command("cutover")
      .description("Move AKIRA_CDR from the pilot to the GA cluster (runbook steps 2–11), without loss"),
    "ga",
  ).action(async (flags: ProcedureFlags) => {
    process.exitCode = await runProcedureCommand("cutover", flags, {
      // The Automation API module is large: loaded only when a procedure really runs.
      infra: async (f) =>
        new (await import("../runbook/pulumiInfra.js")).PulumiInfra({
          workDir: f.workDir,
          stopNodesCommand: f.hookStopNodes ?? process.env.AKIRA_NATS_HOOK_STOP_NODES,
        }),
    });
  });
}
