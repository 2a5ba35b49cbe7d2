/**
 * `akira-nats`: the operator CLI. Each command lives in scripts/commands/ and registers itself
 * through scripts/commands/registerCommands.ts. Errors end as one line on stderr (one JSON object on stdout
 * with --json) and exit code 1, unless a command sets its own code (Nagios codes for
 * `server check`, 2 for drift, 130/143 when interrupted by SIGINT/SIGTERM). The process exits when
 * the command is done, whatever connection or timer an error left behind.
 */
import { Command, CommanderError } from "commander";
import { installInterruptHandlers, interruption, signalExitCode } from "./cli/interrupt";
import { registerCommands } from "./commands/registerCommands";

/** The error as the user sees it: one line, or one JSON object with --json. */
function reportError(argv: readonly string[], err: Error & { code?: string }): void {
  const message = err.message.replace(/\s*\n\s*/g, " ");
  if (argv.includes("--json")) {
    const error = err.code === undefined ? { message } : { code: err.code, message };
    process.stdout.write(`${JSON.stringify({ error })}\n`);
  } else {
    process.stderr.write(`akira-nats: ${message}\n`);
  }
}

async function main(argv: string[]): Promise<number> {
  const program = new Command("akira-nats")
    .description("Operate the AKIRA NATS broker: backups, checks, cutover, rollback, rehearsal.")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");
  registerCommands(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 1;
    }
    const e = err as Error & { exitCode?: number; code?: string };
    reportError(argv, e);
    const signal = interruption.received();
    return signal !== undefined ? signalExitCode(signal) : (e.exitCode ?? 1);
  }
}

installInterruptHandlers();
main(process.argv).then((code) => {
  // Exit once stdout has drained: a pending reconnect or timer must not keep a finished command alive.
  process.stdout.write("", () => process.exit(code));
});
