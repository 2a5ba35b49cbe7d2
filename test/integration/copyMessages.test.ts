import assert from "node:assert/strict";
import { test } from "node:test";
import { DeliverPolicy, headers, type NatsConnection, StorageType } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import type { LocalDeployment } from "../../scripts/local/localNats";
import { copyMessages, streamIds } from "../../scripts/runbook/copyMessages";
import { startPilot } from "../helpers/testServers";

const STREAM = "COPY_TEST";

async function open(t: { after(fn: () => unknown): void }, d: LocalDeployment): Promise<NatsConnection> {
  const nc = await connectNats({ servers: d.servers, user: d.user, password: d.secrets.clientPassword });
  t.after(() => nc.close());
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: STREAM, subjects: ["copy.>"], storage: StorageType.File });
  return nc;
}

test("copyMessages - copies from a sequence on, keeps ids and headers, never twice", async (t) => {
  const [a, b] = await Promise.all([startPilot(t), startPilot(t)]);
  const [src, dst] = await Promise.all([open(t, a), open(t, b)]);
  const js = src.jetstream();
  for (let i = 1; i <= 30; i++) {
    const h = headers();
    h.set("X-Customer", `c${i % 3}`);
    await js.publish(`copy.c${i % 3}`, new TextEncoder().encode(`cdr ${i}`), {
      msgID: `id-${i}`,
      headers: h,
    });
  }
  // The destination already holds 11..15 (as GA holds what an earlier attempt copied).
  for (let i = 11; i <= 15; i++) {
    await dst
      .jetstream()
      .publish(`copy.c${i % 3}`, new TextEncoder().encode(`cdr ${i}`), { msgID: `id-${i}` });
  }
  const { ids } = await streamIds(dst, STREAM);
  const r = await copyMessages(src, dst, STREAM, { fromSeq: 11, skipIds: ids });
  assert.deepEqual(
    { copied: r.copied, skipped: r.skipped, duplicates: r.duplicates, cursor: r.cursor },
    { copied: 15, skipped: 5, duplicates: 0, cursor: { lastSeq: 30, lastId: "id-30" } },
  );
  const again = await copyMessages(src, dst, STREAM, { fromSeq: 11 });
  assert.deepEqual({ copied: again.copied, duplicates: again.duplicates }, { copied: 0, duplicates: 20 });

  const copied = await dst
    .jetstream()
    .consumers.get(STREAM, { opt_start_seq: 6, deliver_policy: DeliverPolicy.StartSequence });
  const m = await copied.next();
  assert.equal(m?.subject, "copy.c1");
  assert.equal(m?.headers?.get("Nats-Msg-Id"), "id-16");
  assert.equal(m?.headers?.get("X-Customer"), "c1");
  assert.equal(m?.string(), "cdr 16");
  const { ids: after } = await streamIds(dst, STREAM);
  assert.deepEqual([...after].sort(), Array.from({ length: 20 }, (_, i) => `id-${i + 11}`).sort());
});

test("copyMessages - an empty range copies nothing", async (t) => {
  const [a, b] = await Promise.all([startPilot(t), startPilot(t)]);
  const [src, dst] = await Promise.all([open(t, a), open(t, b)]);
  const r = await copyMessages(src, dst, STREAM, { fromSeq: 1 });
  assert.deepEqual(r, { copied: 0, skipped: 0, duplicates: 0, cursor: { lastSeq: 0 } });
});
