/**
 * Connection flags spoken like the `nats` CLI: `-s/--server`, `--user`, `--password`, `--tlsca`,
 * `--tlscert`, `--tlskey`, and the environment variables NATS_URL, NATS_USER, NATS_PASSWORD,
 * NATS_CA, NATS_CERT, NATS_KEY. Flags win over the environment. Any TLS setting, or a `tls://`
 * URL, makes TLS required: a server without it is refused, never used in plaintext.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { ConnectionTarget } from "../../components/jetstream/connection";
import { parseDurationOrMs } from "./duration";
import { UsageError } from "./usageError";

export interface ConnectionFlags {
  server?: string;
  user?: string;
  password?: string;
  timeout?: string;
  tlsca?: string;
  tlscert?: string;
  tlskey?: string;
}

/** Adds the connection flags to a command. */
export function withConnectionFlags(cmd: Command): Command {
  return cmd
    .option("-s, --server <urls>", "NATS server URLs, comma-separated (env NATS_URL)")
    .option("--user <name>", "user name (env NATS_USER)")
    .option("--password <secret>", "password (env NATS_PASSWORD; prefer the variable: flags show in `ps`)")
    .option("--timeout <duration>", "connect timeout: a duration (5s, 500ms) or milliseconds", "5000")
    .option("--tlsca <file>", "CA certificate the servers' certificates are checked against (env NATS_CA)")
    .option("--tlscert <file>", "client certificate, for servers that verify clients (env NATS_CERT)")
    .option("--tlskey <file>", "the client certificate's key (env NATS_KEY)");
}

/** Resolves flags and environment into a target. Default server as the nats CLI: nats://127.0.0.1:4222. */
export function connectionTarget(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionTarget {
  const timeoutMs = parseTimeoutMs(flags.timeout ?? "5000");
  const tls = tlsFiles(flags, env);
  return {
    servers: flags.server ?? env.NATS_URL ?? "nats://127.0.0.1:4222",
    user: flags.user ?? env.NATS_USER,
    password: flags.password ?? env.NATS_PASSWORD,
    timeoutMs,
    ...(tls === undefined ? {} : { tls }),
  };
}

/** The TLS files the flags or the environment name, read; undefined when none is named. */
function tlsFiles(flags: ConnectionFlags, env: NodeJS.ProcessEnv): ConnectionTarget["tls"] {
  const named = {
    ca: ["--tlsca", flags.tlsca ?? env.NATS_CA],
    cert: ["--tlscert", flags.tlscert ?? env.NATS_CERT],
    key: ["--tlskey", flags.tlskey ?? env.NATS_KEY],
  } as const;
  if ((named.cert[1] === undefined) !== (named.key[1] === undefined)) {
    throw new UsageError("--tlscert and --tlskey (NATS_CERT, NATS_KEY) go together: give both or neither");
  }
  const tls: { ca?: string; cert?: string; key?: string } = {};
  for (const [field, [flag, path]] of Object.entries(named)) {
    if (path === undefined || path === "") continue;
    try {
      tls[field as keyof typeof tls] = readFileSync(path, "utf8");
    } catch (err) {
      throw new UsageError(
        `${flag} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  }
  return Object.keys(tls).length === 0 ? undefined : tls;
}

/** `--timeout`: milliseconds (as before) or a duration like the nats CLI's (`5s`, `500ms`, `2m`). */
export function parseTimeoutMs(value: string): number {
  return parseDurationOrMs(value, "--timeout");
}
