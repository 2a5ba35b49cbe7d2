/**
 * Whether a restore of `bytes` at R`replicas` fits where it is going, asked before anything is
 * uploaded. nats-server accepts a restore that its storage cannot hold, reports it restored, and
 * then refuses every publish (10023 insufficient resources): the cutover would end with a stream
 * that takes no CDRs. Two limits apply:
 * - the account's (`$JS.API.INFO` `limits.max_storage`, -1 when unlimited), which counts every copy;
 * - each server's `max_file_store` (`jetstream.max_file_store` in its conf), which only the system
 *   account sees (`$SYS.REQ.SERVER.PING.JSZ`: `config.max_storage`, `storage`, `reserved_storage`).
 *   R copies need R servers with room, each holding one copy.
 */
import type { NatsConnection } from "nats";
import { RequestStrategy } from "nats";
import { AkiraNatsError } from "./errors";
import { type JsApiResponse, jsApiRequest } from "./jsApiRequest";

export interface ServerRoom {
  readonly name: string;
  /** `max_file_store`: the most file storage the server gives JetStream. */
  readonly limitBytes: number;
  /** What it holds or has reserved (streams with `max_bytes`), whichever is more. */
  readonly usedBytes: number;
}

export interface StorageRoom {
  /** The account's file-storage limit; undefined when unlimited. */
  readonly accountLimitBytes?: number;
  readonly accountUsedBytes: number;
  /** Every JetStream server's room; undefined without a system-account connection. */
  readonly servers?: readonly ServerRoom[];
}

interface AccountInfoJson extends JsApiResponse {
  storage?: number;
  limits?: { max_storage?: number };
}

interface JszStorageReply {
  server: { name: string };
  data?: { config?: { max_storage?: number }; storage?: number; reserved_storage?: number };
}

/** The account's room, and every server's when `sysNc` is given. */
export async function storageRoom(nc: NatsConnection, sysNc?: NatsConnection): Promise<StorageRoom> {
  const account = await jsApiRequest<AccountInfoJson>(nc, "$JS.API.INFO", undefined, { timeoutMs: 5000 });
  const limit = account.limits?.max_storage ?? -1;
  return {
    ...(limit >= 0 ? { accountLimitBytes: limit } : {}),
    accountUsedBytes: account.storage ?? 0,
    ...(sysNc === undefined ? {} : { servers: await serverRooms(sysNc) }),
  };
}

async function serverRooms(sysNc: NatsConnection): Promise<ServerRoom[]> {
  const rooms: ServerRoom[] = [];
  const replies = await sysNc.requestMany("$SYS.REQ.SERVER.PING.JSZ", new TextEncoder().encode("{}"), {
    maxWait: 2000,
    strategy: RequestStrategy.JitterTimer,
    jitter: 500,
  });
  for await (const m of replies) {
    const r = m.json<JszStorageReply>();
    const limitBytes = r.data?.config?.max_storage;
    if (limitBytes === undefined || limitBytes <= 0) continue;
    rooms.push({
      name: r.server.name,
      limitBytes,
      usedBytes: Math.max(r.data?.storage ?? 0, r.data?.reserved_storage ?? 0),
    });
  }
  if (rooms.length === 0) {
    throw new AkiraNatsError(
      "system-account",
      "no JetStream server answered $SYS.REQ.SERVER.PING.JSZ: the system-account user and password are wrong, or JetStream is off",
    );
  }
  return rooms;
}

const MIB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

/**
 * Throws `insufficient-storage` when `bytes` at R`replicas` cannot fit, naming the limit, what is
 * free and how to make room. `what` names the stream for the message.
 */
export function assertRoomFor(room: StorageRoom, what: string, bytes: number, replicas: number): void {
  if (room.accountLimitBytes !== undefined) {
    const free = room.accountLimitBytes - room.accountUsedBytes;
    if (free < bytes * replicas) {
      throw new AkiraNatsError(
        "insufficient-storage",
        `${what} needs ${mib(bytes * replicas)} (${mib(bytes)} × R${replicas}) but the account's JetStream storage limit leaves ${mib(free)} of ${mib(room.accountLimitBytes)}; nothing was sent. Raise the account's max_file_store or free space, then restore again`,
      );
    }
  }
  if (room.servers === undefined) return;
  const roomy = room.servers.filter((s) => s.limitBytes - s.usedBytes >= bytes);
  if (roomy.length < replicas) {
    const each = room.servers
      .map((s) => `${s.name} ${mib(Math.max(0, s.limitBytes - s.usedBytes))} free of ${mib(s.limitBytes)}`)
      .join(", ");
    throw new AkiraNatsError(
      "insufficient-storage",
      `${what} needs ${mib(bytes)} on each of ${replicas} server(s), but only ${roomy.length} ha${roomy.length === 1 ? "s" : "ve"} that much JetStream storage left (${each}); nothing was sent. On GA the limit follows serverType (a larger type), on the pilot pilotMaxFileStoreGb; or free space, then restore again`,
    );
  }
}
