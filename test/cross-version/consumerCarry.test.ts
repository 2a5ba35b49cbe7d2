/**
 * A durable consumer carried from the pinned line back to the oldest pilot line, as the rollback
 * does: the newer server's own `_nats.*` metadata stays behind, the applications' metadata is named
 * when the older line cannot keep it, and the position arrives either way.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AckPolicy, DeliverPolicy, type NatsConnection } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { OLDEST_PILOT_NATS_VERSION, PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";
import { binaryVersion, natsServerBinFor } from "../../scripts/local/natsServerBin";
import { carryConsumerPositions } from "../../scripts/runbook/consumerPositions";
import { copyMessages } from "../../scripts/runbook/copyMessages";
import { startPilot } from "../helpers/testServers";

const STREAM = "CARRY";

async function serverOn(t: Parameters<typeof startPilot>[0], version: string): Promise<NatsConnection> {
  const pilot = await startPilot(t, { natsServerBin: natsServerBinFor(version) });
  const nc = await connectNats({
    servers: pilot.servers,
    user: pilot.user,
    password: pilot.secrets.clientPassword,
  });
  t.after(() => nc.close());
  await (await nc.jetstreamManager()).streams.add({ name: STREAM, subjects: ["carry.>"] });
  return nc;
}

describe("consumer positions across lines", () => {
  it("pinned → oldest pilot line: carried without the server's metadata; the applications' metadata is named", async (t) => {
    const ga = await serverOn(t, PINNED_NATS_VERSION);
    const pilot = await serverOn(t, OLDEST_PILOT_NATS_VERSION);
    const js = ga.jetstream();
    for (let i = 1; i <= 20; i++)
      await js.publish("carry.cdr", new TextEncoder().encode(`${i}`), { msgID: `cdr-${i}` });
    const jsm = await ga.jetstreamManager();
    await jsm.consumers.add(STREAM, {
      durable_name: "billing",
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
    const batch = await (await js.consumers.get(STREAM, "billing")).fetch({ max_messages: 7, expires: 5000 });
    for await (const m of batch) await m.ackAck();
    await copyMessages(ga, pilot, STREAM);

    const [carried] = await carryConsumerPositions(ga, pilot, STREAM);
    assert.deepEqual(
      [carried?.durable, carried?.sourceAckFloor, carried?.nextId, carried?.destinationStartSeq],
      ["billing", 7, "cdr-8", 8],
    );
    const next = await (await pilot.jetstream().consumers.get(STREAM, "billing")).next({ expires: 2000 });
    assert.equal(next?.headers?.get("Nats-Msg-Id"), "cdr-8");

    await jsm.consumers.update(STREAM, "billing", { metadata: { team: "billing" } });
    const to = binaryVersion(natsServerBinFor(OLDEST_PILOT_NATS_VERSION));
    await assert.rejects(carryConsumerPositions(ga, pilot, STREAM), {
      message: `consumer billing has metadata (team), which nats-server ${to} does not keep: remove it from the consumer, or carry it by hand`,
    });
  });
});
