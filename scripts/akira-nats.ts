/**
 * `akira-nats`: the operator CLI. Each command lives in scripts/commands/ and registers itself
 * through scripts/commands/index.ts. Errors end as one line on stderr and exit code 1, unless a
 * command sets its own code (Nagios codes for `server check`, 2 for drift).
 */
import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands";

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
    const e = err as Error & { exitCode?: number };
    process.stderr.write(`akira-nats: ${e.message}\n`);
    return e.exitCode ?? 1;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
