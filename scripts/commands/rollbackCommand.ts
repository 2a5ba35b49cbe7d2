/**
 * `akira-nats rollback --stack staging`: Move back to the pilot, carrying every GA-period CDR with it. Steps, journal and
 * `--resume` are scripts/runbook/; `--dry-run` prints the plan.
 */
import type { Command } from "commander";
import { type ProcedureFlags, runProcedureCommand, withProcedureFlags } from "./procedureCommands";

export function registerRollback(program: Command): void {
  withProcedureFlags(
    program.command("rollback").description("Move back to the pilot, carrying every GA-period CDR with it"),
    "staging",
  ).action(async (flags: ProcedureFlags) => {
    process.exitCode = await runProcedureCommand("rollback", flags, {
      // The Automation API module is large: loaded only when a procedure really runs.
      infra: async (f) =>
        new (await import("../runbook/pulumiInfra.js")).PulumiInfra({
          workDir: f.workDir,
          stopNodesCommand: f.hookStopNodes ?? process.env.AKIRA_NATS_HOOK_STOP_NODES,
        }),
    });
  });
}
