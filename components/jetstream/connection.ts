/**
 * One way to connect to NATS for the provider, the CLI and the rehearsal, with failures mapped to
 * {@link UnreachableError} / {@link AuthorizationError} that name the URLs and never the password.
 */
import type { NatsConnection } from "nats";
import { AuthorizationError, UnreachableError } from "./errors";

export interface ConnectionTarget {
  /** One URL, a comma-separated list, or an array. */
  readonly servers: string | readonly string[];
  readonly user?: string;
  readonly password?: string;
  /** Overall time to get connected, in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Connection name shown by the server (`nats server report connections`). */
  readonly name?: string;
  /** Keep reconnecting (long-running publishers, the failover test). Default false. */
  readonly reconnect?: boolean;
}

/** Splits `a,b , c` into trimmed URLs; empty entries dropped. */
export function serverList(servers: string | readonly string[]): string[] {
  const list = typeof servers === "string" ? servers.split(",") : [...servers];
  return list.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Removes user info from a URL so it can be printed. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//");
}

export async function connectNats(target: ConnectionTarget): Promise<NatsConnection> {
  const { connect } = await import("nats");
  const servers = serverList(target.servers);
  const shown = servers.map(redactUrl);
  if (servers.length === 0) throw new UnreachableError(["(none)"], "no server URL given");
  const timeout = target.timeoutMs ?? 5000;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  // nats.js tries each server once per connect() call; retry until the deadline so a server that
  // is still starting (or a tunnel that is still opening) gets its chance.
  while (Date.now() < deadline) {
    try {
      return await connect({
        servers,
        user: target.user,
        pass: target.password,
        name: target.name ?? "akira-nats",
        timeout: Math.max(500, Math.min(2000, deadline - Date.now())),
        reconnect: target.reconnect ?? false,
        maxReconnectAttempts: target.reconnect ? -1 : 0,
        reconnectTimeWait: 250,
        waitOnFirstConnect: false,
      });
    } catch (err) {
      lastError = err;
      const code = (err as { code?: string }).code;
      if (code === "AUTHORIZATION_VIOLATION" || code === "BAD_AUTHENTICATION") {
        throw new AuthorizationError(shown, target.user, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const detail = (lastError as Error | undefined)?.message ?? "timed out";
  throw new UnreachableError(shown, `${detail}, gave up after ${timeout} ms`, { cause: lastError });
}
