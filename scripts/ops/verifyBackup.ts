/**
 * `akira-nats stream verify <dir>`: checks a live stream against a backup at any later time. The
 * backup's files against their digests, the live stream's state against backup.json (messages the
 * stream's own limits dropped are expected, messages published since are reported), every message
 * the backup promises read back from the server, and, when the backup carried them, the consumers.
 */
import { join } from "node:path";
import type { NatsConnection } from "nats";
import { verifyPositions } from "../../components/jetstream/durablePositions";
import { AkiraNatsError } from "../../components/jetstream/errors";
import { streamInfoRaw } from "../../components/jetstream/jsApiRequest";
import { quarantineOf } from "../../components/jetstream/quarantine";
import {
  backupDataSize,
  checkDigests,
  readBackupMeta,
  streamHasLimits,
  verifyReadable,
  verifyState,
} from "../../components/jetstream/restore";
import { BACKUP_DATA_FILE } from "../../components/jetstream/snapshot";

export interface VerifyReport {
  readonly stream: string;
  /** Messages of the backup read back (from the first the stream still holds to its last sequence). */
  readonly readable: number;
  /** Messages the stream holds beyond the backup (published since). */
  readonly publishedSince: number;
  /** Whether the backup's digests could be checked (natscli's backups have none). */
  readonly digestsChecked: boolean;
  /** With consumers in the backup: how many there and here, and positions found at or past the recorded ones. */
  readonly consumers: {
    readonly backup: number;
    readonly live: number;
    readonly positionsChecked: number;
  } | null;
}

export async function verifyBackupAgainstStream(nc: NatsConnection, dir: string): Promise<VerifyReport> {
  const meta = await readBackupMeta(dir);
  const name = meta.config.name;
  const dataPath = join(dir, BACKUP_DATA_FILE);
  await checkDigests(name, dir, meta, dataPath, await backupDataSize(dataPath));
  const info = await streamInfoRaw(nc, name);
  const q = quarantineOf(info.config);
  if (q !== undefined) {
    throw new AkiraNatsError(
      "stream-quarantined",
      `stream ${name} is quarantined (${q.reason}): it does not hold what the backup does`,
    );
  }
  const limited = streamHasLimits(meta.config);
  const extra = verifyState(name, meta.state, info.state, limited);
  const readable = await verifyReadable(nc, name, meta.state, info.state, limited);
  const included = meta.akira_nats?.consumers_included === true;
  const consumers = included
    ? { backup: meta.state.consumer_count ?? 0, live: info.state.consumer_count ?? 0 }
    : null;
  if (consumers !== null && consumers.live < consumers.backup) {
    throw new AkiraNatsError(
      "restore-mismatch",
      `stream ${name} has ${consumers.live} consumers, the backup ${consumers.backup}: restore them from the backup (a new stream restored from it) or recreate them`,
    );
  }
  const positionsChecked = await verifyPositions(nc, name, meta.akira_nats?.consumer_positions ?? []);
  return {
    stream: name,
    readable,
    publishedSince: extra,
    digestsChecked: meta.akira_nats !== undefined,
    consumers: consumers === null ? null : { ...consumers, positionsChecked },
  };
}
