/**
 * Connection flags spoken like the `nats` CLI: `-s/--server`, `--user`, `--password`, and the
 * environment variables NATS_URL, NATS_USER, NATS_PASSWORD. Flags win over the environment.
 */
import type { Command } from "commander";
import type { ConnectionTarget } from "../../components/jetstream/connection";

export interface ConnectionFlags {
  server?: string;
  user?: string;
  password?: string;
  timeout?: string;
}

/** Adds the connection flags to a command. */
export function withConnectionFlags(cmd: Command): Command {
  return cmd
    .option("-s, --server <urls>", "NATS server URLs, comma-separated (env NATS_URL)")
    .option("--user <name>", "user name (env NATS_USER)")
    .option("--password <secret>", "password (env NATS_PASSWORD; prefer the variable: flags show in `ps`)")
    .option("--timeout <ms>", "connect timeout in milliseconds", "5000");
}

/** Resolves flags and environment into a target. Default server as the nats CLI: nats://127.0.0.1:4222. */
export function connectionTarget(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionTarget {
  const timeoutMs = Number(flags.timeout ?? "5000");
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`--timeout must be a positive number of milliseconds, got "${flags.timeout}"`);
  }
  return {
    servers: flags.server ?? env.NATS_URL ?? "nats://127.0.0.1:4222",
    user: flags.user ?? env.NATS_USER,
    password: flags.password ?? env.NATS_PASSWORD,
    timeoutMs,
  };
}

/** Bad flags or arguments: printed as one line, exit code 1 (3 for `server check`). */
export class UsageError extends Error {
  override name = "UsageError";
}
