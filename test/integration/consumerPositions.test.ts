/**
 * Durable consumers carried between two copies of a stream whose sequences differ, as the rollback
 * does (the pilot's own messages first, then GA's carried by id): each resumes at the same message.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AckPolicy, DeliverPolicy, type NatsConnection, nanos, StorageType } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { serverLine } from "../../components/jetstream/serverLines";
import type { LocalDeployment } from "../../scripts/local/localNats";
import { carryConsumerPositions } from "../../scripts/runbook/consumerPositions";
import { copyMessages } from "../../scripts/runbook/copyMessages";
import { startPilot } from "../helpers/testServers";

const STREAM = "POSITIONS";

async function open(t: { after(fn: () => unknown): void }, d: LocalDeployment): Promise<NatsConnection> {
  const nc = await connectNats({ servers: d.servers, user: d.user, password: d.secrets.clientPassword });
  t.after(() => nc.close());
  await (await nc.jetstreamManager()).streams.add({
    name: STREAM,
    subjects: ["pos.>"],
    storage: StorageType.File,
  });
  return nc;
}

async function publish(nc: NatsConnection, prefix: string, count: number) {
  const js = nc.jetstream();
  for (let i = 1; i <= count; i++)
    await js.publish("pos.cdr", new TextEncoder().encode(`${prefix} ${i}`), { msgID: `${prefix}-${i}` });
}

/** Pulls `count` messages of the durable and acknowledges them. */
async function consume(nc: NatsConnection, durable: string, count: number) {
  const c = await nc.jetstream().consumers.get(STREAM, durable);
  const batch = await c.fetch({ max_messages: count, expires: 5000 });
  let n = 0;
  for await (const m of batch) {
    await m.ackAck();
    n++;
  }
  assert.equal(n, count);
}

test("carryConsumerPositions - each durable resumes at the same message on a renumbered copy", async (t) => {
  const [a, b] = await Promise.all([startPilot(t), startPilot(t)]);
  const [src, dst] = await Promise.all([open(t, a), open(t, b)]);
  // The destination holds 300 messages of its own before the source's are carried behind them.
  await publish(dst, "own", 300);
  await publish(src, "ga", 500);
  const srcJsm = await src.jetstreamManager();
  const durable = (name: string) =>
    srcJsm.consumers.add(STREAM, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(30_000),
      max_ack_pending: 1000,
    });
  await durable("billing");
  await durable("done");
  await durable("fresh");
  await consume(src, "billing", 120);
  await consume(src, "done", 500);
  // The destination's stale copy of "billing" (as the pilot keeps its pre-cutover durable).
  await (await dst.jetstreamManager()).consumers.add(STREAM, {
    durable_name: "billing",
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  await copyMessages(src, dst, STREAM);

  const carried = await carryConsumerPositions(src, dst, STREAM);
  // Before its first delivery the server reports the new consumer's floor per its line.
  const floor = (startSeq: number) =>
    serverLine(dst.info?.version ?? "").startSequenceAckFloor === "zero" ? 0 : startSeq - 1;
  assert.deepEqual(
    carried.map((c) => [
      c.durable,
      c.sourceAckFloor,
      c.nextId,
      c.destinationStartSeq,
      c.destinationAckFloor,
      c.redelivered,
    ]),
    [
      ["billing", 120, "ga-121", 421, floor(421), 0],
      ["done", 500, "", 801, floor(801), 0],
      ["fresh", 0, "ga-1", 301, floor(301), 0],
    ],
  );
  const next = async (name: string) => {
    const c = await dst.jetstream().consumers.get(STREAM, name);
    const m = await c.next({ expires: 1000 });
    return m?.headers?.get("Nats-Msg-Id") ?? null;
  };
  assert.equal(await next("billing"), "ga-121");
  assert.equal(await next("fresh"), "ga-1");
  assert.equal(await next("done"), null);
  // The source's configuration came along: only where it starts differs.
  const info = await (await dst.jetstreamManager()).consumers.info(STREAM, "billing");
  assert.deepEqual(
    [
      info.config.ack_policy,
      info.config.max_ack_pending,
      info.config.ack_wait,
      info.config.deliver_policy,
      info.config.opt_start_seq,
    ],
    [AckPolicy.Explicit, 1000, nanos(30_000), DeliverPolicy.StartSequence, 421],
  );
});

test("carryConsumerPositions - a message the destination lacks is named, and nothing is changed", async (t) => {
  const [a, b] = await Promise.all([startPilot(t), startPilot(t)]);
  const [src, dst] = await Promise.all([open(t, a), open(t, b)]);
  await publish(src, "ga", 10);
  await (await src.jetstreamManager()).consumers.add(STREAM, {
    durable_name: "billing",
    ack_policy: AckPolicy.Explicit,
  });
  await consume(src, "billing", 4);
  await assert.rejects(carryConsumerPositions(src, dst, STREAM), {
    message: `consumer billing: message "ga-5" of ${STREAM} is not at the destination, so its position cannot be carried; copy the messages first (run with --resume)`,
  });
  assert.deepEqual(await (await dst.jetstreamManager()).consumers.list(STREAM).next(), []);
});
