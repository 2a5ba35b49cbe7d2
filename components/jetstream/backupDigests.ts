/**
 * What binds a backup together: SHA-256 digests of its data file and of the config and state its
 * backup.json describes, recorded in backup.json under `akira_nats` (natscli ignores the key, and
 * its own backups simply have none). A restore checks both before it sends anything, so a flipped
 * byte in stream.tar.s2, a truncated file or an edited `subjects` is refused instead of restored.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

/** backup.json's `akira_nats` section. */
export interface BackupDigests {
  /** SHA-256 (hex) of stream.tar.s2 as written. */
  readonly data_sha256: string;
  /** Its size in bytes. */
  readonly data_bytes: number;
  /** SHA-256 (hex) of `{ config, state }` in canonical JSON (keys sorted). */
  readonly meta_sha256: string;
  /** Whether the consumers and their positions are in the data (absent: an older backup). */
  readonly consumers_included?: boolean;
  /**
   * Each durable consumer's ack floor (stream sequence), read just before the snapshot: the
   * snapshot holds it or a later one. A restore and `stream verify` check every one came back at
   * least there. Absent in older backups and with `--no-consumers`.
   */
  readonly consumer_positions?: readonly ConsumerPosition[];
}

export interface ConsumerPosition {
  readonly name: string;
  readonly ack_floor: number;
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function metaDigest(config: unknown, state: unknown): string {
  return createHash("sha256").update(canonicalJson({ config, state })).digest("hex");
}

/** SHA-256 (hex) of the first `size` bytes of the file at `path`, read in 1 MiB pieces. */
export async function fileDigest(path: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  const file = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let done = 0; done < size; ) {
      const { bytesRead } = await file.read(buf, 0, Math.min(buf.length, size - done), done);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      done += bytesRead;
    }
  } finally {
    await file.close();
  }
  return hash.digest("hex");
}
