/**
 * `restoreStream`: the inverse of {@link backupStream}, reading the directory layout of
 * `nats stream backup` (so it restores natscli backups too).
 *
 * Protocol (nats-server `jsStreamRestoreRequest`/`processStreamRestore`, jsm.go `restoreSnapshot`):
 * 1. request `$JS.API.STREAM.RESTORE.<stream>` with backup.json's `{ config, state }`; the answer
 *    names a `deliver_subject`. An existing stream is refused by the server (10058), and checked
 *    before that so nothing is touched;
 * 2. send stream.tar.s2 in chunks, each as a request: the server acks every chunk once it is
 *    written to its staging file (flow control) and cancels the restore after 5 s without a chunk;
 * 3. an empty request ends the upload; its answer is the created stream's info (or the error).
 * natscli waits for each ack before the next chunk; we keep a small window of chunks in flight
 * (same connection, so the server still sees them in order), which matters for large streams.
 *
 * The stream name cannot change during a restore (nats-server#2850), so there is no `--name`.
 */
import { lstat, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { NatsConnection } from "nats";
import { type BackupDigests, fileDigest, metaDigest } from "./backupDigests";
import { verifyPositions } from "./durablePositions";
import { AkiraNatsError, JsErrCode } from "./errors";
import {
  decodeJson,
  type JsApiResponse,
  jsApiRequest,
  type StreamConfigJson,
  type StreamInfoJson,
  type StreamStateJson,
  streamExists,
  streamInfoRaw,
} from "./jsApiRequest";
import { metaGroup } from "./peers";
import { quarantineOf, quarantineStream, quarantineSubject } from "./quarantine";
import { countReadable } from "./readBack";
import { waitReplicasCurrent } from "./replicas";
import { snapshotUnreadable } from "./serverLines";
import { BACKUP_DATA_FILE, BACKUP_META_FILE } from "./snapshot";
import { assertRoomFor, storageRoom } from "./storageRoom";
import { assertStreamName, MAX_REPLICAS, validReplicas } from "./streamRules";

export interface RestoreProgress {
  readonly bytesSent: number;
  /** Size of stream.tar.s2. */
  readonly bytesTotal: number;
  readonly chunks: number;
  /** `upload` while sending, `finalizing` while the server unpacks, `replicas` while they catch up. */
  readonly phase: "upload" | "finalizing" | "replicas";
}

export interface RestoreOptions {
  /** Replicas of the restored stream. Default: backup.json's `num_replicas`. */
  readonly replicas?: number;
  readonly onProgress?: (p: RestoreProgress) => void;
  /** Upload chunk size. Default 256 KiB (natscli: 64 KiB). */
  readonly chunkSize?: number;
  /** Chunks in flight before waiting for acks. Default 8 (natscli: 1). */
  readonly window?: number;
  /** How long the server may take to unpack the upload. Default 1 h (as natscli). */
  readonly finalizeTimeoutMs?: number;
  /** Wait until every replica is current after the restore. Default 120000 ms; 0 skips. */
  readonly replicasTimeoutMs?: number;
  /** Aborting stops the upload (the server then discards the partial restore). */
  readonly signal?: AbortSignal;
  /**
   * A system-account connection: then each server's storage room is checked before the upload,
   * and every server's own copy is compared with the leader's (the leader's "current" alone has
   * been wrong, nats-server#2955, #4695). Default none: only the account's limit is checked.
   */
  readonly systemConnection?: NatsConnection;
}

export interface RestoreResult {
  readonly stream: string;
  readonly replicas: number;
  readonly messages: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly bytes: number;
  readonly dataBytes: number;
  /**
   * Messages in the restored stream beyond backup.json's state: published while the snapshot ran
   * (see {@link verifyState}). 0 for a backup of a quiet stream.
   */
  readonly publishedDuringSnapshot: number;
  /** Durable consumers found at (or past) the ack floor the backup recorded for them. */
  readonly consumersChecked: number;
  /** `"N messages published while the snapshot ran"` when that is more than 0. */
  readonly note?: string;
  /** An earlier run restored the stream; this one waited for its replicas and checked it. */
  readonly resumed?: boolean;
  /** Each server's storage room was checked (a system-account connection), not just the account's. */
  readonly serverStorageChecked: boolean;
  readonly durationMs: number;
}

/** backup.json as natscli and {@link backupStream} write it. */
export interface BackupMeta {
  readonly config: StreamConfigJson;
  readonly state: StreamStateJson;
  /** The nats-server version the backup was taken from (absent in natscli's backups). */
  readonly server_version?: string;
  /** Digests of what the backup holds (absent in natscli's backups and older ones). */
  readonly akira_nats?: BackupDigests;
}

/** Reads and checks backup.json; every failure names the file and what is wrong with it. */
export async function readBackupMeta(dir: string): Promise<BackupMeta> {
  const path = join(dir, BACKUP_META_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new AkiraNatsError(
      "backup-missing",
      `${path} not found: point at a directory written by \`akira-nats stream backup\` or \`nats stream backup\``,
    );
  }
  let meta: Partial<BackupMeta>;
  try {
    meta = JSON.parse(text) as Partial<BackupMeta>;
  } catch {
    throw new AkiraNatsError("backup-invalid", `${path} is not valid JSON: the backup is damaged`);
  }
  const name = meta.config?.name;
  const s = meta.state;
  if (
    typeof name !== "string" ||
    s === undefined ||
    typeof s.messages !== "number" ||
    typeof s.last_seq !== "number"
  ) {
    throw new AkiraNatsError(
      "backup-invalid",
      `${path} lacks config.name or state.messages/last_seq: it is not a stream backup`,
    );
  }
  assertStreamName(name);
  return meta as BackupMeta;
}

/** Restores the backup in `dir`. Refuses (touching nothing) when the stream exists. */
export async function restoreStream(
  nc: NatsConnection,
  dir: string,
  opts: RestoreOptions = {},
): Promise<RestoreResult> {
  const started = Date.now();
  const meta = await readBackupMeta(dir);
  const name = meta.config.name;
  const dataPath = join(dir, BACKUP_DATA_FILE);
  const bytesTotal = await backupDataSize(dataPath);
  await checkDigests(name, dir, meta, dataPath, bytesTotal);
  if (meta.config.storage === "memory") {
    throw new AkiraNatsError(
      "memory-stream",
      `backup of ${name} has memory storage, which JetStream cannot restore`,
    );
  }
  if (opts.replicas !== undefined && !validReplicas(opts.replicas)) {
    throw new AkiraNatsError(
      "bad-replicas",
      `replicas must be an integer from 1 to ${MAX_REPLICAS}, got ${opts.replicas}`,
    );
  }
  const unreadable = snapshotUnreadable(meta.server_version, nc.info?.version);
  if (unreadable !== undefined) {
    throw new AkiraNatsError(
      "snapshot-format",
      `cannot restore ${name} here: ${unreadable}; nothing was sent. Restore it on nats-server ${meta.server_version} or newer, or carry the messages over instead (akira-nats rollback copies them message by message)`,
    );
  }
  if (replicasWanted(opts, meta) > 1 && nc.info?.cluster === undefined) {
    throw new AkiraNatsError(
      "bad-replicas",
      `cannot restore ${name} with ${replicasWanted(opts, meta)} replicas on ${nc.getServer()}: it is a standalone server, which holds one copy; nothing was sent. Restore with --replicas 1, or into a cluster`,
    );
  }
  if (await streamExists(nc, name)) {
    const live = await streamInfoRaw(nc, name);
    const q = quarantineOf(live.config);
    if (q !== undefined) {
      throw new AkiraNatsError(
        "stream-quarantined",
        `stream ${name} exists, quarantined by an earlier restore (${q.reason}): remove it (nats stream rm ${name}) and restore again, or accept it (akira-nats stream release ${name})`,
      );
    }
    if (holdsExactly(live.state, meta.state) && sameSubjects(live.config, meta.config)) {
      // An earlier run of this restore got the data in and gave up waiting for the replicas:
      // carry on from there instead of refusing.
      return finishRestore(nc, name, meta, live.state, bytesTotal, started, opts, true);
    }
    throw new AkiraNatsError(
      "stream-exists",
      `stream ${name} already exists: it was left untouched; to replace it, back it up (akira-nats stream backup ${name} <new-dir>), delete it, then restore again`,
    );
  }
  const replicas = replicasWanted(opts, meta);
  if (opts.systemConnection !== undefined && replicas > 1) {
    const { clusterSize } = await metaGroup(opts.systemConnection);
    if (replicas > clusterSize) {
      throw new AkiraNatsError(
        "bad-replicas",
        `cannot restore ${name} with ${replicas} replicas into a cluster of ${clusterSize} JetStream servers: each copy needs its own server; nothing was sent. Restore with --replicas ${clusterSize} or fewer`,
      );
    }
  }
  // Stored bytes are the state's, not the compressed upload's.
  assertRoomFor(
    await storageRoom(nc, opts.systemConnection),
    `restoring ${name}`,
    meta.state.bytes ?? 0,
    replicas,
  );
  const config = { ...meta.config, num_replicas: replicas };
  const start = await jsApiRequest<JsApiResponse & { deliver_subject?: string }>(
    nc,
    `$JS.API.STREAM.RESTORE.${name}`,
    { config, state: meta.state },
    { timeoutMs: 10_000, stream: name },
  ).catch((err: unknown) => {
    // The server places the copies before it takes any data: too few peers is refused here.
    if ((err as AkiraNatsError).code !== `js-${JsErrCode.NoSuitablePeers}`) throw err;
    throw new AkiraNatsError(
      "bad-replicas",
      `cannot restore ${name} with ${replicas} replicas: fewer than ${replicas} JetStream servers of the cluster can take a copy now (akira-nats server list shows them); nothing was sent. Restore with --replicas at most the cluster size, or bring the missing servers back`,
      { cause: err },
    );
  });
  if (typeof start.deliver_subject !== "string") {
    throw new AkiraNatsError(
      "restore-failed",
      `the server accepted the restore of ${name} without a deliver subject`,
    );
  }
  await upload(nc, name, start.deliver_subject, dataPath, bytesTotal, opts);
  opts.onProgress?.({ bytesSent: bytesTotal, bytesTotal, chunks: 0, phase: "finalizing" });
  // Past the upload the server finishes on its own: an interruption now only stops the waiting.
  const created = await finalize(nc, name, start.deliver_subject, opts.finalizeTimeoutMs ?? 3_600_000);
  // The state in the server's final answer is the stream right after the restore, before any
  // publisher could add to it; a stream info is the fallback for servers that leave it out.
  const state = created.state ?? (await streamInfoRaw(nc, name)).state;
  return finishRestore(nc, name, meta, state, bytesTotal, started, { ...opts, replicas });
}

/** Waits for the replicas, verifies against backup.json, and reports: the end of every restore. */
async function finishRestore(
  nc: NatsConnection,
  name: string,
  meta: BackupMeta,
  state: StreamStateJson,
  bytesTotal: number,
  started: number,
  opts: RestoreOptions,
  resumed?: true,
): Promise<RestoreResult> {
  const replicas = resumed === undefined ? replicasWanted(opts, meta) : await liveReplicas(nc, name);
  if ((opts.replicasTimeoutMs ?? 120_000) > 0 && replicas > 1) {
    opts.onProgress?.({ bytesSent: bytesTotal, bytesTotal, chunks: 0, phase: "replicas" });
    await waitReplicasCurrent(nc, name, replicas, {
      timeoutMs: opts.replicasTimeoutMs ?? 120_000,
      systemConnection: opts.systemConnection,
    }).catch((err: Error) => {
      throw new AkiraNatsError(
        "replicas-not-current",
        `restored stream ${name} (it exists and its leader holds the backup), but its replicas did not catch up: ${err.message}; run the same restore again to keep waiting (it picks up the restored stream)`,
        { cause: err },
      );
    });
  }
  const { extra, consumersChecked } = await verifyOrQuarantine(nc, name, meta, state);
  const notes = extra > 0 ? [`${extra} messages published while the snapshot ran`] : [];
  return {
    stream: name,
    replicas,
    messages: state.messages,
    firstSeq: state.first_seq,
    lastSeq: state.last_seq,
    bytes: state.bytes,
    dataBytes: bytesTotal,
    publishedDuringSnapshot: extra,
    consumersChecked,
    ...(notes.length > 0 ? { note: notes.join("; ") } : {}),
    ...(resumed === undefined ? {} : { resumed: true }),
    serverStorageChecked: resumed === undefined && opts.systemConnection !== undefined,
    durationMs: Date.now() - started,
  };
}

async function liveReplicas(nc: NatsConnection, name: string): Promise<number> {
  return (await streamInfoRaw(nc, name)).config.num_replicas ?? 1;
}

/** The live stream holds exactly what backup.json records: nothing added, nothing missing. */
function holdsExactly(live: StreamStateJson, recorded: StreamStateJson): boolean {
  return (["messages", "first_seq", "last_seq", "bytes"] as const).every((f) => live[f] === recorded[f]);
}

function sameSubjects(live: StreamConfigJson, recorded: StreamConfigJson): boolean {
  return JSON.stringify(live.subjects ?? []) === JSON.stringify(recorded.subjects ?? []);
}

async function verifyOrQuarantine(
  nc: NatsConnection,
  name: string,
  meta: BackupMeta,
  state: StreamStateJson,
): Promise<{ extra: number; consumersChecked: number }> {
  try {
    const limited = streamHasLimits(meta.config);
    const extra = verifyState(name, meta.state, state, limited);
    await verifyReadable(nc, name, meta.state, state, limited);
    const consumersChecked = await verifyPositions(nc, name, meta.akira_nats?.consumer_positions ?? []);
    return { extra, consumersChecked };
  } catch (err) {
    if (!(err instanceof AkiraNatsError) || err.code !== "restore-mismatch") throw err;
    await quarantineStream(nc, name, err.message);
    throw new AkiraNatsError(
      "restore-mismatch",
      `${err.message}; the stream was quarantined: its subjects moved to ${quarantineSubject(name)} so nothing publishes into it, and server check stream reports it CRITICAL. Inspect it (akira-nats stream info ${name}), then remove it (nats stream rm ${name}) and restore again, or accept it as it is (akira-nats stream release ${name})`,
      { cause: err },
    );
  }
}

/**
 * Every message the backup's state promises, read back from the server: counters can agree while
 * a message is unreadable. With limits that dropped head messages, those after the stream's new
 * first sequence are read, and no count is promised.
 */
export async function verifyReadable(
  nc: NatsConnection,
  name: string,
  recorded: StreamStateJson,
  live: StreamStateJson,
  limited: boolean,
): Promise<number> {
  const from = Math.max(recorded.first_seq, live.first_seq);
  const readable = await countReadable(nc, name, from, recorded.last_seq);
  const promised = limited && live.first_seq > recorded.first_seq ? undefined : recorded.messages;
  if (promised !== undefined && readable !== promised) {
    throw new AkiraNatsError(
      "restore-mismatch",
      `stream ${name}: ${readable} of the backup's ${promised} messages could be read back (sequences ${recorded.first_seq}..${recorded.last_seq})`,
    );
  }
  return readable;
}

function replicasWanted(opts: RestoreOptions, meta: BackupMeta): number {
  return opts.replicas ?? meta.config.num_replicas ?? 1;
}

/** The data file's size; only a regular file is read (a symlink to a device would never end). */
export async function backupDataSize(dataPath: string): Promise<number> {
  const s = await lstat(dataPath).catch(() => {
    throw new AkiraNatsError("backup-missing", `${dataPath} not found: the backup is incomplete`);
  });
  if (!s.isFile()) {
    throw new AkiraNatsError(
      "backup-invalid",
      `${dataPath} is not a regular file (a ${s.isSymbolicLink() ? "symbolic link" : "special file"}): a backup's data is a plain file; nothing was sent`,
    );
  }
  return s.size;
}

/**
 * Checks stream.tar.s2 and backup.json against the digests the backup recorded, before anything
 * is sent. A backup without digests (natscli's, or an older one) cannot be checked here: its
 * messages are still checked after the restore.
 */
export async function checkDigests(
  name: string,
  dir: string,
  meta: BackupMeta,
  dataPath: string,
  size: number,
): Promise<void> {
  const d = meta.akira_nats;
  if (d === undefined) return;
  if (metaDigest(meta.config, meta.state) !== d.meta_sha256) {
    throw new AkiraNatsError(
      "digest-mismatch",
      `${join(dir, BACKUP_META_FILE)} was changed after the backup of ${name}: its config or state no longer matches the digest recorded with it; nothing was sent. Restore an unedited copy of the backup`,
    );
  }
  if (size !== d.data_bytes || (await fileDigest(dataPath, size)) !== d.data_sha256) {
    throw new AkiraNatsError(
      "digest-mismatch",
      `${dataPath} does not match the digest backup.json recorded (${size === d.data_bytes ? "same size, different bytes" : `${size} bytes, recorded ${d.data_bytes}`}): the backup of ${name} is damaged; nothing was sent. Restore another copy of the backup`,
    );
  }
}

async function upload(
  nc: NatsConnection,
  name: string,
  subject: string,
  dataPath: string,
  bytesTotal: number,
  opts: RestoreOptions,
): Promise<void> {
  const chunkSize = opts.chunkSize ?? 256 * 1024;
  const window = Math.max(1, opts.window ?? 8);
  const file = await open(dataPath, "r");
  const inFlight: Promise<void>[] = [];
  let sent = 0;
  let chunks = 0;
  let failure: unknown;
  try {
    for (;;) {
      if (opts.signal?.aborted) {
        throw new AkiraNatsError(
          "interrupted",
          `restore of ${name} interrupted during the upload (${sent} of ${bytesTotal} bytes sent): the server discards a partial restore, the stream was not created; run the restore again`,
        );
      }
      // Never past the size measured before the upload: the file is read as it was checked.
      const want = Math.min(chunkSize, bytesTotal - sent);
      if (want <= 0) break;
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await file.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      const ack = nc.request(subject, chunk, { timeout: 30_000 }).then(
        (reply) => {
          // The server answers a chunk it could not store with "-ERR '…'" or a JSON error.
          if (reply.data.length > 0) failure ??= chunkError(name, reply.data, subject);
        },
        (err: unknown) => {
          failure ??= new AkiraNatsError(
            "restore-failed",
            `upload of ${name} failed: ${(err as Error).message}; the server discards a partial restore, the stream was not created`,
            { cause: err },
          );
        },
      );
      inFlight.push(ack);
      sent += bytesRead;
      chunks++;
      if (inFlight.length >= window) await inFlight.shift();
      if (failure !== undefined) throw failure;
      opts.onProgress?.({ bytesSent: sent, bytesTotal, chunks, phase: "upload" });
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
  } finally {
    await file.close();
  }
}

function chunkError(name: string, data: Uint8Array, subject: string): AkiraNatsError {
  const text = new TextDecoder().decode(data);
  const detail = text.startsWith("{")
    ? (decodeJson<JsApiResponse>(data, subject).error?.description ?? text)
    : text.replace(/^-ERR\s*/, "");
  return new AkiraNatsError(
    "restore-failed",
    `the server refused a chunk of ${name}: ${detail}; the stream was not created`,
  );
}

async function finalize(
  nc: NatsConnection,
  name: string,
  subject: string,
  timeoutMs: number,
): Promise<StreamInfoJson> {
  const reply = await nc.request(subject, new Uint8Array(), { timeout: timeoutMs });
  const res = decodeJson<StreamInfoJson & JsApiResponse>(reply.data, subject);
  if (res.error !== undefined) {
    throw new AkiraNatsError(
      "restore-failed",
      `the server could not restore ${name}: ${res.error.description ?? "unknown error"} (${res.error.err_code ?? res.error.code}); the stream was not created`,
    );
  }
  return res;
}

/** True when the stream's own limits may drop messages by themselves (age, count, size). */
export function streamHasLimits(config: StreamConfigJson): boolean {
  const n = (k: string) => Number((config as Record<string, unknown>)[k] ?? 0);
  return n("max_age") > 0 || n("max_msgs") > 0 || n("max_bytes") > 0 || n("max_msgs_per_subject") > 0;
}

/**
 * Checks the restored stream against backup.json and returns how many messages it holds beyond it.
 *
 * backup.json's state is the one the server answered the snapshot request with; the server takes
 * it first and then streams the store's message blocks, reading each block only when it gets to
 * it (nats-server filestore `streamSnapshot`), so the last block can carry messages published
 * while the snapshot ran. Such a stream starts at the recorded first sequence and holds at least
 * the recorded messages, last sequence and bytes: that is accepted and the extra reported. Fewer
 * in any field, or another first sequence, is a mismatch; so is a different byte count when
 * messages and last sequence are exactly as recorded.
 *
 * With `limited` (the stream has max_age, max_msgs or max_bytes), messages may also have expired or
 * been dropped by a limit between the backup and the check: the first sequence may then be later,
 * and messages and bytes fewer, as long as the last sequence is still at least the recorded one.
 */
export function verifyState(
  name: string,
  expected: StreamStateJson,
  actual: StreamStateJson,
  limited = false,
): number {
  const fields = ["messages", "first_seq", "last_seq", "bytes"] as const;
  const extra = actual.messages - expected.messages;
  const grew = extra > 0 && actual.last_seq > expected.last_seq;
  const trimmed = limited && actual.first_seq > expected.first_seq && actual.last_seq >= expected.last_seq;
  const acceptable = (f: (typeof fields)[number]) => {
    if (trimmed) return f !== "last_seq" || actual.last_seq >= expected.last_seq;
    return f === "first_seq" || !grew ? actual[f] === expected[f] : actual[f] >= expected[f];
  };
  const diffs = fields
    .filter((f) => !acceptable(f))
    .map((f) => `${f} ${actual[f]} (backup.json: ${expected[f]})`);
  if (diffs.length > 0) {
    throw new AkiraNatsError(
      "restore-mismatch",
      `restored stream ${name} does not match its backup: ${diffs.join(", ")}`,
    );
  }
  return trimmed ? 0 : Math.max(0, extra);
}
