/**
 * Backups across server lines: a snapshot of the pinned line cannot be read by the oldest pilot
 * line ("invalid tar header"), so the restore refuses it before sending anything and says what to
 * do; the other way round works (the cutover's direction).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connectNats } from "../../components/jetstream/connection";
import { restoreStream } from "../../components/jetstream/restore";
import { OLDEST_PILOT_NATS_VERSION, PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";
import { backupStream } from "../../components/jetstream/snapshot";
import { findStream } from "../../components/jetstream/streams";
import { binaryVersion, natsServerBinFor } from "../../scripts/local/natsServerBin";
import { startPilot, tempDir } from "../helpers/testServers";

async function pilotOn(t: Parameters<typeof startPilot>[0], version: string) {
  const pilot = await startPilot(t, { natsServerBin: natsServerBinFor(version) });
  const nc = await connectNats({
    servers: pilot.servers,
    user: pilot.user,
    password: pilot.secrets.clientPassword,
  });
  t.after(() => nc.close());
  return nc;
}

async function streamWithMessages(nc: Awaited<ReturnType<typeof pilotOn>>, name: string, count: number) {
  await (await nc.jetstreamManager()).streams.add({ name, subjects: [`fmt.${name}.>`] });
  const js = nc.jetstream();
  for (let i = 0; i < count; i++) await js.publish(`fmt.${name}.x`, new TextEncoder().encode(`cdr-${i}`));
}

describe("backup across lines - snapshot format", () => {
  it("a pinned-line backup is refused by the oldest pilot line before anything is sent", async (t) => {
    const newer = await pilotOn(t, PINNED_NATS_VERSION);
    const older = await pilotOn(t, OLDEST_PILOT_NATS_VERSION);
    const name = `FMT_${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
    await streamWithMessages(newer, name, 100);
    const dir = join(tempDir(t), "backup");
    await backupStream(newer, name, dir);
    const from = binaryVersion(natsServerBinFor(PINNED_NATS_VERSION));
    const to = binaryVersion(natsServerBinFor(OLDEST_PILOT_NATS_VERSION));
    await assert.rejects(restoreStream(older, dir), {
      code: "snapshot-format",
      message: `cannot restore ${name} here: the backup was taken on nats-server ${from}, whose snapshot format nats-server ${to} cannot read (it answers "invalid tar header"); nothing was sent. Restore it on nats-server ${from} or newer, or carry the messages over instead (akira-nats rollback copies them message by message)`,
    });
    assert.equal(await findStream(older, name), undefined);
  });

  it("an oldest-line backup restores on the pinned line", async (t) => {
    const older = await pilotOn(t, OLDEST_PILOT_NATS_VERSION);
    const newer = await pilotOn(t, PINNED_NATS_VERSION);
    const name = `FMT_${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
    await streamWithMessages(older, name, 100);
    const dir = join(tempDir(t), "backup");
    await backupStream(older, name, dir);
    const r = await restoreStream(newer, dir);
    assert.deepEqual([r.messages, r.firstSeq, r.lastSeq], [100, 1, 100]);
  });
});
