import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NatsConnection } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { CdrTraffic } from "../../scripts/traffic/cdrTraffic";
import { IdTally } from "../../scripts/traffic/idTally";
import { verifyStream } from "../../scripts/traffic/verify";
import { startCluster, startPilot } from "../helpers/testServers";

type Hooks = { after(fn: () => unknown): void };

async function client(t: Hooks, d: { servers: string; user: string; secrets: { clientPassword: string } }) {
  const target = { servers: d.servers, user: d.user, password: d.secrets.clientPassword };
  const nc = await connectNats(target);
  t.after(() => nc.close());
  return { nc, target };
}

async function addStream(nc: NatsConnection, name: string, replicas: number): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name, subjects: ["akira.cdr.>"], num_replicas: replicas });
}

async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("cdr traffic - publisher, consumer and verification against real servers", () => {
  it("single node - exact counts with maxMessages, every id stored once and consumed", async (t) => {
    const pilot = await startPilot(t);
    const { nc, target } = await client(t, pilot);
    await addStream(nc, "AKIRA_CDR", 1);
    const traffic = new CdrTraffic({
      target,
      ratePerSec: 2000,
      maxMessages: 3000,
      consumer: { stream: "AKIRA_CDR" },
    });
    await traffic.start();
    await until("3000 acks", () => traffic.stats().acked === 3000);
    await until("3000 consumed", () => traffic.stats().consumed === 3000);
    const stats = await traffic.stop();
    assert.equal(stats.published, 3000);
    assert.equal(stats.acked, 3000);
    assert.equal(stats.failed, 0);
    assert.equal(stats.serverDuplicates, 0);
    assert.equal(stats.consumedDuplicates, 0);
    assert.ok(stats.samples.length >= 1);
    assert.equal(
      stats.samples.reduce((n, s) => n + s.acked, 0),
      3000,
    );
    const v = await verifyStream(nc, "AKIRA_CDR", stats.ackedIds);
    assert.deepEqual(
      { stored: v.stored, lost: v.lost, duplicates: v.duplicates, withoutId: v.withoutId },
      { stored: 3000, lost: 0, duplicates: 0, withoutId: 0 },
    );
    const first = await (await nc.jetstreamManager()).streams.getMessage("AKIRA_CDR", { seq: 1 });
    const body = first.json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(body), [
      "id",
      "callId",
      "caller",
      "callee",
      "start",
      "durationSec",
      "customerId",
    ]);
    assert.equal(first.header.get("Nats-Msg-Id"), body.id);
  });

  it("verify - reports lost and duplicate ids exactly", async (t) => {
    const pilot = await startPilot(t);
    const { nc } = await client(t, pilot);
    const jsm = await nc.jetstreamManager();
    // A 100 ms duplicate window lets the test store the same id twice, as a retry after the
    // window would.
    await jsm.streams.add({ name: "AKIRA_CDR", subjects: ["akira.cdr.>"], duplicate_window: 100_000_000 });
    const js = nc.jetstream();
    for (const id of ["r-1", "r-2", "other"]) await js.publish("akira.cdr.x", "{}", { msgID: id });
    await until("r-2 stored a second time", async () => {
      const ack = await js.publish("akira.cdr.x", "{}", { msgID: "r-2" });
      return !ack.duplicate;
    });
    await js.publish("akira.cdr.x", "{}");
    const v = await verifyStream(nc, "AKIRA_CDR", new Set(["r-1", "r-2", "r-3", "other", "missing"]));
    assert.deepEqual(
      {
        stored: v.stored,
        lost: v.lost,
        duplicates: v.duplicates,
        withoutId: v.withoutId,
        lostSample: v.lostSample,
      },
      { stored: 5, lost: 2, duplicates: 1, withoutId: 1, lostSample: ["r-3", "missing"] },
    );
  });

  it("pause - nothing in flight after it resolves, nothing published until resume", async (t) => {
    const pilot = await startPilot(t);
    const { nc, target } = await client(t, pilot);
    await addStream(nc, "AKIRA_CDR", 1);
    const traffic = new CdrTraffic({ target, ratePerSec: 3000, maxInFlight: 64 });
    t.after(() => traffic.stop());
    await traffic.start();
    await until("some acks", () => traffic.stats().acked > 500);
    await traffic.pause();
    const paused = traffic.stats();
    assert.equal(paused.inFlight, 0);
    assert.equal(paused.published, paused.acked + paused.failed);
    const stored = (await (await nc.jetstreamManager()).streams.info("AKIRA_CDR")).state.messages;
    assert.equal(stored, paused.acked);
    await new Promise((r) => setTimeout(r, 300)); // a pause has no condition to wait for: prove silence
    assert.equal(traffic.stats().published, paused.published);
    traffic.resume();
    await until("publishing again", () => traffic.stats().acked > paused.acked + 100);
    const stats = await traffic.stop();
    assert.ok(stats.maxPublishGapMs < 300, `the pause must not count as a gap: ${stats.maxPublishGapMs} ms`);
  });

  it("repoint - from a pilot to a 3-node cluster loses nothing", async (t) => {
    const pilot = await startPilot(t);
    const ga = await startCluster(t);
    const p = await client(t, pilot);
    const g = await client(t, ga);
    await addStream(p.nc, "AKIRA_CDR", 1);
    await addStream(g.nc, "AKIRA_CDR", 3);
    const traffic = new CdrTraffic({ target: p.target, ratePerSec: 1000, consumer: { stream: "AKIRA_CDR" } });
    await traffic.start();
    await until("pilot acks", () => traffic.stats().acked > 300);
    await traffic.repoint(g.target);
    const atRepoint = traffic.stats().acked;
    await until("cluster acks", () => traffic.stats().acked > atRepoint + 300);
    const stats = await traffic.stop();
    assert.equal(stats.failed, 0);
    const onPilot = await verifyStream(p.nc, "AKIRA_CDR", []);
    const onGa = await verifyStream(g.nc, "AKIRA_CDR", []);
    assert.equal(onPilot.stored, atRepoint);
    assert.equal(onPilot.stored + onGa.stored, stats.acked);
    const everywhere = new IdTally();
    const ids = [...stats.ackedIds];
    assert.equal(ids.length, stats.acked);
    for (const id of ids) everywhere.add(id);
    assert.equal(everywhere.duplicates, 0);
    assert.equal(onGa.duplicates + onPilot.duplicates, 0);
  });
});
