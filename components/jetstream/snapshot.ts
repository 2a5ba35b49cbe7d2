/**
 * `backupStream`: a stream backup through the JetStream snapshot API, in the directory layout of
 * `nats stream backup` (natscli, jsm.go `SnapshotToDirectory`): `stream.tar.s2` (the server's
 * s2-compressed tar of the stream store, written as received) and `backup.json`
 * (`{ "config": …, "state": … }` as the server answered the snapshot request). Either tool restores
 * what the other wrote.
 *
 * Protocol (nats-server `jsStreamSnapshotRequest`/`streamSnapshot`, jsm.go `createSnapshot`):
 * 1. subscribe to an inbox, then request `$JS.API.STREAM.SNAPSHOT.<stream>` with
 *    `{ deliver_subject, chunk_size, jsck, no_consumers }`; the answer carries config and state;
 * 2. the stream leader pushes chunks to the inbox, each with a reply subject; acking a chunk
 *    (an empty reply) opens the server's send window (32 MiB on 2.9), so acking only after the
 *    chunk is on disk keeps memory bounded by that window whatever the stream's size;
 * 3. an empty message ends the snapshot (newer servers add status 204; any other status is an
 *    error). Newer servers abort a snapshot that sees no ack for 5 s.
 *
 * The backup is written into a private directory beside the target and renamed into place only
 * once complete: two backups into the same directory cannot mix (the second rename is refused),
 * and an interrupted or failed backup leaves nothing at the target. backup.json records digests of
 * what it describes (backupDigests.ts). Consumers are included, as natscli does, unless told not.
 */
import { createHash, type Hash } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  type WriteStream,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { createInbox, type Msg, type NatsConnection } from "nats";
import { type BackupDigests, metaDigest } from "./backupDigests";
import { durablePositions } from "./durablePositions";
import { AkiraNatsError } from "./errors";
import {
  type JsApiResponse,
  jsApiRequest,
  type StreamConfigJson,
  type StreamStateJson,
  streamInfoRaw,
} from "./jsApiRequest";
import { S2UncompressedCounter } from "./s2Frames";
import { assertStreamName } from "./streamRules";

export const BACKUP_META_FILE = "backup.json";
export const BACKUP_DATA_FILE = "stream.tar.s2";

/** Progress of a backup, reported after every chunk. */
export interface BackupProgress {
  /** Compressed bytes written to stream.tar.s2 so far. */
  readonly bytesReceived: number;
  /** The same, uncompressed (the tar of the store): comparable with `bytesExpected`, as natscli shows it. */
  readonly uncompressedBytes: number;
  /** The stream's size in bytes according to the snapshot's state (uncompressed). */
  readonly bytesExpected: number;
  readonly chunks: number;
}

export interface BackupOptions {
  /** Called after each chunk is on disk. */
  readonly onProgress?: (p: BackupProgress) => void;
  /** Chunk size the server sends. Default 256 KiB (the server's own default; natscli asks 128 KiB, measurably slower). */
  readonly chunkSize?: number;
  /** Ask the server to check every message before the snapshot (`jsck`). Default false. */
  readonly healthCheck?: boolean;
  /** Give up when no chunk arrives for this long. Default 30000 ms. */
  readonly idleTimeoutMs?: number;
  /** Timeout of the API requests. Default 10000 ms. */
  readonly requestTimeoutMs?: number;
  /** Include the stream's consumers and their positions (as natscli does). Default true. */
  readonly includeConsumers?: boolean;
  /** Aborting stops the backup; the partial files are removed and nothing reaches `dir`. */
  readonly signal?: AbortSignal;
}

export interface BackupResult {
  readonly stream: string;
  readonly dir: string;
  readonly messages: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** The stream's bytes at the snapshot (backup.json `state.bytes`). */
  readonly bytes: number;
  /** Size of stream.tar.s2. */
  readonly dataBytes: number;
  readonly chunks: number;
  /** Consumers in the stream when the backup began; their state is in the backup unless left out. */
  readonly consumers: number;
  readonly consumersIncluded: boolean;
  /** The digests recorded in backup.json. */
  readonly digests: BackupDigests;
  readonly durationMs: number;
}

interface SnapshotResponse extends JsApiResponse {
  readonly config: StreamConfigJson;
  readonly state: StreamStateJson;
}

/** Backs `stream` up into `dir` (created if missing; must be empty). Nothing is left behind on failure. */
export async function backupStream(
  nc: NatsConnection,
  stream: string,
  dir: string,
  opts: BackupOptions = {},
): Promise<BackupResult> {
  assertStreamName(stream);
  const started = Date.now();
  const info = await streamInfoRaw(nc, stream, opts.requestTimeoutMs ?? 10_000);
  if (info.config.storage === "memory") {
    throw new AkiraNatsError(
      "memory-stream",
      `stream ${stream} uses memory storage, which JetStream cannot snapshot: nothing was written; back up a file-storage stream (or copy it into one first)`,
    );
  }
  checkTarget(dir);
  const target = resolve(dir);
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  // Private and on the same filesystem as the target, so the final rename is atomic.
  const work = mkdtempSync(join(dirname(target), `.${basename(target)}.partial-`));
  const out = createWriteStream(join(work, BACKUP_DATA_FILE), { mode: 0o600 });
  const includeConsumers = opts.includeConsumers ?? true;
  try {
    // Read before the snapshot: the snapshot then holds these positions or later ones.
    const positions = includeConsumers ? await durablePositions(nc, stream) : undefined;
    const { response, dataBytes, chunks, sha256 } = await receiveSnapshot(nc, stream, out, {
      ...opts,
      includeConsumers,
    });
    const digests: BackupDigests = {
      data_sha256: sha256,
      data_bytes: dataBytes,
      meta_sha256: metaDigest(response.config, response.state),
      consumers_included: includeConsumers,
      ...(positions === undefined ? {} : { consumer_positions: positions }),
    };
    // natscli's layout plus the server's version (its decoder ignores extra keys): a restore on
    // an older line can then refuse a snapshot format it cannot read, before uploading anything.
    const meta = {
      config: response.config,
      state: response.state,
      server_version: nc.info?.version,
      akira_nats: digests,
    };
    await writeFile(join(work, BACKUP_META_FILE), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
    claim(work, target);
    return {
      stream,
      dir,
      messages: response.state.messages,
      firstSeq: response.state.first_seq,
      lastSeq: response.state.last_seq,
      bytes: response.state.bytes,
      dataBytes,
      chunks,
      consumers: info.state.consumer_count ?? 0,
      consumersIncluded: includeConsumers,
      digests,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    out.destroy();
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

/** Refuses, before anything is written, a target that is a file or a directory with entries. */
function checkTarget(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) {
    throw new AkiraNatsError(
      "target-not-empty",
      `backup target ${dir} exists and is not a directory: nothing was written; choose a new or empty directory`,
    );
  }
  const entries = readdirSync(dir);
  if (entries.length > 0) {
    throw new AkiraNatsError(
      "target-not-empty",
      `backup directory ${dir} is not empty (${entries.length} entr${entries.length === 1 ? "y" : "ies"}): nothing was written; choose a new or empty directory`,
    );
  }
}

/**
 * Moves the finished backup to `target`. rename(2) replaces a missing or empty directory and
 * fails on one with entries: of two backups racing for one directory, exactly one gets it.
 */
function claim(work: string, target: string): void {
  try {
    renameSync(work, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") {
      throw new AkiraNatsError(
        "target-not-empty",
        `backup directory ${target} was filled by another backup while this one ran: this backup was discarded and the other one left untouched; back up into a new directory`,
      );
    }
    throw err;
  }
}

function closeStream(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    out.once("error", reject);
    out.end(() => resolve());
  });
}

async function receiveSnapshot(
  nc: NatsConnection,
  stream: string,
  out: WriteStream,
  opts: BackupOptions & { readonly includeConsumers: boolean },
): Promise<{ response: SnapshotResponse; dataBytes: number; chunks: number; sha256: string }> {
  const inbox = createInbox();
  const hash: Hash = createHash("sha256");
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  let idle: NodeJS.Timeout | undefined;
  let response: SnapshotResponse | undefined;
  let dataBytes = 0;
  let chunks = 0;
  const counter = new S2UncompressedCounter();
  let settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Handled where awaited; a failure after the end (or before the request went out) is moot.
  finished.catch(() => {});
  const lostConnection = (err: unknown) => {
    const e = err as { code?: string; message?: string };
    return nc.isClosed() || /closed|reset|disconnect|EPIPE/i.test(`${e?.code ?? ""} ${e?.message ?? ""}`);
  };
  const connectionLost = () =>
    new AkiraNatsError(
      "snapshot-stalled",
      `backup of ${stream} ended before the server finished (connection closed); the partial backup was removed; retry`,
    );
  // Whatever reports the failure first (the subscription, the closed connection, the file), the
  // caller gets one AkiraNatsError: a dropped connection is always said the same way.
  const asBackupError = (err: unknown): AkiraNatsError =>
    err instanceof AkiraNatsError
      ? err
      : lostConnection(err)
        ? connectionLost()
        : new AkiraNatsError(
            "snapshot-failed",
            `backup of ${stream} failed (${(err as Error)?.message ?? String(err)}); the partial backup was removed; retry`,
            { cause: err },
          );
  const fail = (err: unknown) => settle?.reject(asBackupError(err));
  const onAbort = () =>
    fail(
      new AkiraNatsError(
        "interrupted",
        `backup of ${stream} interrupted: the partial backup was removed and nothing was written to the target`,
      ),
    );
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  // A full disk (ENOSPC) or a vanished directory fails the backup instead of crashing the process.
  out.on("error", fail);
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () =>
        fail(
          new AkiraNatsError(
            "snapshot-stalled",
            `backup of ${stream} stalled: no data for ${idleMs} ms; the partial backup was removed; check the stream leader (akira-nats server check stream --stream ${stream}) and retry`,
          ),
        ),
      idleMs,
    );
  };
  // Chunks are written in arrival order (one WriteStream) and each is acked from its write
  // callback, i.e. once it is on its way to disk: the next chunk is received while the last one
  // is written, and unacked data never exceeds the server's window.
  const sub = nc.subscribe(inbox, {
    callback: (err, msg) => {
      // The subscription ends with an error when the connection goes: the same failure as below.
      if (err) return fail(err);
      armIdle();
      try {
        checkStatus(msg, stream);
      } catch (e) {
        return fail(e);
      }
      if (msg.data.length === 0) return settle?.resolve();
      // Chunks still in flight after a failure closed the file: nothing to write them to.
      if (out.destroyed || out.writableEnded) return;
      const size = msg.data.length;
      counter.push(msg.data);
      // Chunks arrive, and are written, in order: the digest is of the file as written.
      hash.update(msg.data);
      out.write(msg.data, (werr) => {
        if (werr) return fail(werr);
        dataBytes += size;
        chunks++;
        if (msg.reply) msg.respond();
        opts.onProgress?.({
          bytesReceived: dataBytes,
          uncompressedBytes: counter.uncompressed,
          bytesExpected: response?.state.bytes ?? 0,
          chunks,
        });
      });
    },
  });
  nc.closed().then(() => fail(connectionLost()));
  try {
    // The server waits only ~2 s for interest on the deliver subject: make the SUB known first.
    await nc.flush();
    response = await jsApiRequest<SnapshotResponse>(
      nc,
      `$JS.API.STREAM.SNAPSHOT.${stream}`,
      {
        deliver_subject: inbox,
        no_consumers: !opts.includeConsumers,
        chunk_size: opts.chunkSize ?? 256 * 1024,
        jsck: opts.healthCheck ?? false,
      },
      { timeoutMs: opts.requestTimeoutMs ?? 10_000, stream },
    ).catch((err: unknown) => {
      // The connection can go while the request is out (the server stopped mid-backup).
      throw asBackupError(err);
    });
    armIdle();
    await finished;
    await closeStream(out);
    return { response, dataBytes, chunks, sha256: hash.digest("hex") };
  } finally {
    clearTimeout(idle);
    opts.signal?.removeEventListener("abort", onAbort);
    if (!sub.isClosed()) sub.unsubscribe();
  }
}

/** A message with a status header other than 204 (end of data) is the server reporting a failure. */
function checkStatus(msg: Msg, stream: string): void {
  const code = msg.headers?.code ?? 0;
  if (code !== 0 && code !== 204) {
    throw new AkiraNatsError(
      "snapshot-failed",
      `the server aborted the backup of ${stream}: ${code} ${msg.headers?.description ?? ""}`.trim(),
    );
  }
}
