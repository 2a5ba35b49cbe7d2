/**
 * Connection flags spoken like the `nats` CLI: `-s/--server`, `--user`, `--password`, and the
 * environment variables NATS_URL, NATS_USER, NATS_PASSWORD. Flags win over the environment.
 */
import type { Command } from "commander";
import type { ConnectionTarget } from "../../components/jetstream/connection";
import { parseDurationMs } from "./duration";

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
    .option("--timeout <duration>", "connect timeout: a duration (5s, 500ms) or milliseconds", "5000");
}

/** Resolves flags and environment into a target. Default server as the nats CLI: nats://127.0.0.1:4222. */
export function connectionTarget(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionTarget {
  const timeoutMs = parseTimeoutMs(flags.timeout ?? "5000");
  return {
    servers: flags.server ?? env.NATS_URL ?? "nats://127.0.0.1:4222",
    user: flags.user ?? env.NATS_USER,
    password: flags.password ?? env.NATS_PASSWORD,
    timeoutMs,
  };
}

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `--timeout`: milliseconds (as before) or a duration like the nats CLI's (`5s`, `500ms`, `2m`). */
export function parseTimeoutMs(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : durationMs(value);
  if (!Number.isInteger(ms) || ms <= 0 || ms > MAX_TIMER_MS) {
    throw new UsageError(
      `--timeout must be a positive duration (5s, 500ms, 2m) or milliseconds, at most ${MAX_TIMER_MS} ms (24.8 days), got "${value}"`,
    );
  }
  return ms;
}

function durationMs(value: string): number {
  try {
    return Math.round(parseDurationMs(value, "--timeout"));
  } catch {
    return Number.NaN;
  }
}

/** Bad flags or arguments: printed as one line, exit code 1 (3 for `server check`). */
export class UsageError extends Error {
  override name = "UsageError";
}
