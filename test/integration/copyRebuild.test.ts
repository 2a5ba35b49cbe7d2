/**
 * Rebuilding a stream copy (peer removed, stream scaled down and up: what the runbook does with a
 * copy that diverged on 2.9) must not cost the applications' durable consumers their positions.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AckPolicy, DeliverPolicy } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { serverLine } from "../../components/jetstream/serverLines";
import { retryTransient } from "../../components/jetstream/waitFor";
import { rememberDurables, restoreDurables } from "../../scripts/runbook/consumerPositions";
import { rebuildCopies } from "../../scripts/runbook/copiesCheck";
import { startCluster, startPilot } from "../helpers/testServers";

test("rebuilding the copy on the durable's leader: the durable keeps its position", async (t) => {
  const ga = await startCluster(t);
  const nc = await connectNats({
    servers: ga.servers,
    user: ga.user,
    password: ga.secrets.clientPassword,
    reconnect: true,
  });
  t.after(() => nc.close());
  const jsm = await nc.jetstreamManager();
  // Right after the cluster formed the JetStream API can still answer "no responders" (503).
  await retryTransient(() => jsm.streams.add({ name: "REBUILT", subjects: ["rebuilt.>"], num_replicas: 3 }), {
    timeoutMs: 20_000,
    what: "creating REBUILT",
  });
  const js = nc.jetstream();
  for (let i = 1; i <= 200; i++)
    await js.publish("rebuilt.cdr", new TextEncoder().encode(`${i}`), { msgID: `cdr-${i}` });
  await jsm.consumers.add("REBUILT", {
    durable_name: "billing",
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  const batch = await (await js.consumers.get("REBUILT", "billing")).fetch({
    max_messages: 120,
    expires: 5000,
  });
  for await (const m of batch) await m.ackAck();
  const before = await jsm.consumers.info("REBUILT", "billing");
  const peer = before.cluster?.leader as string;
  const streamLeader = (await jsm.streams.info("REBUILT")).cluster?.leader as string;
  const keep = [
    streamLeader,
    ...((await jsm.streams.info("REBUILT")).cluster?.replicas ?? []).map((r) => r.name),
  ].find((n) => n !== peer) as string;
  const lines: string[] = [];
  await rebuildCopies(nc, "REBUILT", 3, [peer], keep, { repairTimeoutMs: 60_000, log: (l) => lines.push(l) });

  // Seen on 2.9.10 and 2.10.27: the durable whose leader's copy was rebuilt can come back at ack
  // floor 0 (it would deliver all 120 again); the rebuild then puts it back after 120, where a
  // consumer created at a start sequence reports the floor its line reports (serverLines).
  const putBack = lines.includes("durable consumers put back at their positions: billing");
  t.diagnostic(`nats-server ${nc.info?.version}: ${putBack ? "durable put back" : "durable kept its state"}`);
  const floor = putBack && serverLine(nc.info?.version ?? "").startSequenceAckFloor === "zero" ? 0 : 120;
  const after = await jsm.consumers.info("REBUILT", "billing");
  assert.equal(after.ack_floor.stream_seq, floor);
  const next = await (await js.consumers.get("REBUILT", "billing")).next({ expires: 2000 });
  assert.equal(next?.headers?.get("Nats-Msg-Id"), "cdr-121");
});

test("a durable lost with a rebuilt copy is put back at its remembered position", async (t) => {
  const pilot = await startPilot(t);
  const nc = await connectNats({
    servers: pilot.servers,
    user: pilot.user,
    password: pilot.secrets.clientPassword,
  });
  t.after(() => nc.close());
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: "LOST", subjects: ["lost.>"] });
  const js = nc.jetstream();
  for (let i = 1; i <= 50; i++)
    await js.publish("lost.cdr", new TextEncoder().encode(`${i}`), { msgID: `cdr-${i}` });
  await jsm.consumers.add("LOST", {
    durable_name: "billing",
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 77,
  });
  await jsm.consumers.add("LOST", { durable_name: "kept", ack_policy: AckPolicy.Explicit });
  const batch = await (await js.consumers.get("LOST", "billing")).fetch({ max_messages: 30, expires: 5000 });
  for await (const m of batch) await m.ackAck();
  const remembered = await rememberDurables(nc, "LOST");
  await jsm.consumers.delete("LOST", "billing");
  const lines: string[] = [];
  assert.deepEqual(await restoreDurables(nc, "LOST", remembered, (l) => lines.push(l)), ["billing"]);
  assert.deepEqual(lines, ["consumer billing is gone; it was at 30: creating it again from sequence 31"]);
  const back = await jsm.consumers.info("LOST", "billing");
  assert.equal(back.config.max_ack_pending, 77);
  const next = await (await js.consumers.get("LOST", "billing")).next({ expires: 2000 });
  assert.equal(next?.headers?.get("Nats-Msg-Id"), "cdr-31");
});
