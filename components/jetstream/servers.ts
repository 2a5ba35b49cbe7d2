/**
 * `listServers`: every server of the cluster as `nats server list` shows it, gathered through the
 * system account: one `$SYS.REQ.SERVER.PING` (answered by every server with its STATSZ, nats-server
 * 2.9: `{ server: { name, host, cluster, ver, jetstream, time }, statsz: { start, connections,
 * routes, … } }`). Only a system-account user gets answers; others get none.
 */
import { createInbox, type NatsConnection } from "nats";
import { type ConnectionTarget, connectNats } from "./connection";
import { AkiraNatsError } from "./errors";
import { decodeJson } from "./jsApiRequest";

export interface ServerSummary {
  readonly name: string;
  readonly cluster: string;
  readonly host: string;
  readonly version: string;
  readonly jetstream: boolean;
  readonly connections: number;
  readonly routes: number;
  readonly uptimeMs: number;
  /** Name of the JetStream meta leader as this server sees it, when JetStream is on. */
  readonly metaLeader?: string;
}

export interface ListServersOptions {
  /** Servers that must answer; fewer is a {@link TooFewServersError}. */
  readonly expect?: number;
  /** How long to wait for answers. Default 3000 ms (stops early once `expect` answered). */
  readonly timeoutMs?: number;
}

/** Fewer servers answered than expected. Carries the ones that did, for display. */
export class TooFewServersError extends AkiraNatsError {
  constructor(
    readonly servers: readonly ServerSummary[],
    readonly expected: number,
  ) {
    const names = servers.map((s) => s.name).join(", ");
    super(
      "too-few-servers",
      servers.length === 0
        ? `no server answered $SYS.REQ.SERVER.PING${expected > 0 ? ` (${expected} expected)` : ""}: the user must belong to the system account (--user system, password akira-nats:systemPassword)`
        : `only ${servers.length} of ${expected} expected servers answered (${names}): start the missing server(s) and check the routes, then run \`akira-nats server list --expect ${expected}\` again`,
    );
  }
}

interface StatszMsg {
  readonly server: {
    readonly name: string;
    readonly host?: string;
    readonly cluster?: string;
    readonly ver: string;
    readonly jetstream?: boolean;
    readonly time: string;
  };
  readonly statsz: {
    readonly start: string;
    readonly connections: number;
    readonly routes?: readonly unknown[];
    readonly jetstream?: { readonly meta?: { readonly leader?: string } };
  };
}

export function summarize(m: StatszMsg): ServerSummary {
  return {
    name: m.server.name,
    cluster: m.server.cluster ?? "",
    host: m.server.host ?? "",
    version: m.server.ver,
    jetstream: m.server.jetstream ?? false,
    connections: m.statsz.connections,
    routes: m.statsz.routes?.length ?? 0,
    uptimeMs: Date.parse(m.server.time) - Date.parse(m.statsz.start),
    metaLeader: m.statsz.jetstream?.meta?.leader,
  };
}

/** Pings every server over `nc` (a system-account connection) and collects the answers, sorted by name. */
export async function pingServers(
  nc: NatsConnection,
  opts: ListServersOptions = {},
): Promise<ServerSummary[]> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const inbox = createInbox();
  const sub = nc.subscribe(inbox);
  const found = new Map<string, ServerSummary>();
  // Without an expected count, stop once answers have been quiet for a moment (as natscli does).
  const quietMs = 500;
  const hardStop = setTimeout(() => sub.unsubscribe(), timeoutMs);
  let quiet: NodeJS.Timeout | undefined;
  try {
    nc.publish("$SYS.REQ.SERVER.PING", new Uint8Array(), { reply: inbox });
    for await (const msg of sub) {
      // A user outside the system account gets the server's "no responders" status, not a
      // server's answer: nobody answered (the error then says which user is needed).
      if (msg.data.length === 0 && (msg.headers?.code ?? 0) !== 0) break;
      const s = summarize(decodeJson<StatszMsg>(msg.data, "$SYS.REQ.SERVER.PING"));
      found.set(s.name, s);
      if (opts.expect !== undefined && found.size >= opts.expect) break;
      if (opts.expect === undefined) {
        clearTimeout(quiet);
        quiet = setTimeout(() => sub.unsubscribe(), quietMs);
      }
    }
  } finally {
    clearTimeout(hardStop);
    clearTimeout(quiet);
    if (!sub.isClosed()) sub.unsubscribe();
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Connects with the system-account target, lists the servers and closes. Throws
 * {@link TooFewServersError} when fewer than `expect` answer (or none at all).
 */
export async function listServers(
  sysTarget: ConnectionTarget,
  opts: ListServersOptions = {},
): Promise<ServerSummary[]> {
  if (opts.expect !== undefined && (!Number.isInteger(opts.expect) || opts.expect < 1)) {
    throw new AkiraNatsError("bad-expect", `expect must be a positive integer, got ${opts.expect}`);
  }
  const nc = await connectNats({ ...sysTarget, name: sysTarget.name ?? "akira-nats server list" });
  try {
    const servers = await pingServers(nc, opts);
    if (servers.length === 0 || (opts.expect !== undefined && servers.length < opts.expect)) {
      throw new TooFewServersError(servers, opts.expect ?? 0);
    }
    return servers;
  } finally {
    await nc.close();
  }
}
