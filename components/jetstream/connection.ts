/**
 * One way to connect to NATS for the provider, the CLI and the rehearsal, with failures mapped to
 * {@link UnreachableError} / {@link AuthorizationError} that name the URLs and never the password.
 */
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import type { NatsConnection } from "nats";
import { AuthorizationError, TlsError, UnreachableError } from "./errors";

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
  /**
   * TLS, required when given or when any URL is `tls://` (a server without TLS is then refused,
   * never used in plaintext). PEM texts: `ca` replaces the system's trust store.
   */
  readonly tls?: ClientTlsOptions;
}

export interface ClientTlsOptions {
  /** The authority the servers' certificates are checked against (PEM). */
  readonly ca?: string;
  /** A client certificate and its key (PEM), for servers that verify clients. */
  readonly cert?: string;
  readonly key?: string;
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
  const tlsRequired = target.tls !== undefined || servers.some((s) => /^tls:\/\//i.test(s));
  const hosts = servers.map(hostOf);
  let tls = tlsRequired ? tlsOptions(target.tls ?? {}, hosts) : undefined;
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
        // nats:// without TLS options means plaintext where the server allows it (a pilot in its
        // TLS transition): nats.js would otherwise try TLS against the system's trust store.
        tls: tls ?? null,
      });
    } catch (err) {
      lastError = err;
      // A nats:// URL of a server that requires TLS: nats.js cannot upgrade with TLS switched off;
      // try again with TLS (checked against the system's trust store unless a CA was given).
      if (tls === undefined && /options\.tls' as it is null/.test((err as Error).message ?? "")) {
        tls = tlsOptions({}, hosts);
        continue;
      }
      const code = (err as { code?: string }).code;
      if (code === "AUTHORIZATION_VIOLATION" || code === "BAD_AUTHENTICATION") {
        throw new AuthorizationError(shown, target.user, { cause: err });
      }
      const tlsProblem = tlsFailure(err, shown, tls !== undefined);
      if (tlsProblem !== undefined) throw new TlsError(tlsProblem, { cause: err });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const detail = (lastError as Error | undefined)?.message ?? "timed out";
  throw new UnreachableError(shown, `${detail}, gave up after ${timeout} ms`, { cause: lastError });
}

/** The host of a NATS URL (brackets of an IPv6 address removed). */
function hostOf(url: string): string {
  const m = /^(?:\w+:\/\/)?(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/.exec(url.trim());
  return (m?.[1] ?? "").replace(/^\[|\]$/g, "");
}

/**
 * nats.js names no server when it reaches one by IP address, and Node then checks the certificate
 * against "localhost". The identity check here accepts a certificate that names any of the hosts
 * asked for (the chain is checked against the authority before): a node of the cluster reached by
 * its address, or through the admin tunnel's 127.0.0.1.
 */
function tlsOptions(tls: ClientTlsOptions, hosts: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      for (const host of hosts) if (checkServerIdentity(host, cert) === undefined) return undefined;
      return new Error(
        `the certificate names ${cert.subjectaltname ?? cert.subject?.CN ?? "no host"}, none of ${hosts.join(", ")}`,
      );
    },
  };
  if (tls.ca !== undefined) out.ca = tls.ca;
  if (tls.cert !== undefined) out.cert = tls.cert;
  if (tls.key !== undefined) out.key = tls.key;
  return out;
}

/** A TLS failure no retry can fix, explained; undefined for anything else. */
function tlsFailure(err: unknown, shown: readonly string[], tlsRequired: boolean): string | undefined {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? "";
  const where = shown.join(", ");
  if (tlsRequired && e.code === "SERVER_OPT_NA" && message === "tls") {
    return `NATS at ${where} does not offer TLS, which a tls:// URL or a TLS option requires: nothing was sent; use nats:// for a server that runs without TLS`;
  }
  if (/certificate|self.signed|unable to verify|ERR_TLS|SSL|handshake|none of/i.test(message)) {
    return `TLS with NATS at ${where} failed (${message}): trust the cluster's authority (--tlsca <file> or NATS_CA; for the stacks, the output caCertificate) and connect by an address its certificate names`;
  }
  return undefined;
}
