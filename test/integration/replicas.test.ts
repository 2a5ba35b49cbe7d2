import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NatsConnection } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { AkiraNatsError, JetStreamApiError } from "../../components/jetstream/errors";
import { metaGroup, streamCopies } from "../../components/jetstream/peers";
import { changeReplicas, type ReplicaProgress } from "../../components/jetstream/replicas";
import { createStream, streamSnapshotInfo } from "../../components/jetstream/streams";
import type { LocalDeployment } from "../../scripts/local/localNats";
import { startCluster, startPilot } from "../helpers/testServers";

type Hooks = { after(fn: () => unknown): void };

/** Both connections go to `servers` (default every node). */
async function clients(
  t: Hooks,
  d: LocalDeployment,
  servers = d.servers,
): Promise<{ nc: NatsConnection; sys: NatsConnection }> {
  const nc = await connectNats({ servers, user: d.user, password: d.secrets.clientPassword });
  const sys = await connectNats({
    servers,
    user: d.systemUser,
    password: d.secrets.systemPassword,
  });
  t.after(() => Promise.all([nc.close(), sys.close()]));
  return { nc, sys };
}

/** Core publishes (fast), then waits until the stream holds them all. */
async function fill(nc: NatsConnection, stream: string, count: number): Promise<void> {
  const body = new TextEncoder().encode(JSON.stringify({ cdr: "x".repeat(64) }));
  for (let i = 0; i < count; i++) {
    nc.publish(`akira.cdr.call.${i % 16}`, body);
    if (i % 5000 === 4999) await nc.flush();
  }
  await nc.flush();
  const deadline = Date.now() + 30_000;
  while ((await streamSnapshotInfo(nc, stream)).state.messages < count) {
    if (Date.now() > deadline) throw new Error(`${stream} never reached ${count} messages`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `/jsz` of one server over its monitoring port: the stream's message count there. */
async function jszMessages(monitorUrl: string, stream: string): Promise<number | undefined> {
  const res = await fetch(`${monitorUrl}/jsz?accounts=true&streams=true`);
  const jsz = (await res.json()) as {
    account_details?: { stream_detail?: { name: string; state: { messages: number } }[] }[];
  };
  for (const acc of jsz.account_details ?? []) {
    const s = acc.stream_detail?.find((d) => d.name === stream);
    if (s) return s.state.messages;
  }
  return undefined;
}

const streamName = () => `CDR_${crypto.randomUUID().slice(0, 8).toUpperCase()}`;

describe("replicas - changes on a real 3-node cluster", () => {
  it("R1→R3 with 100k messages: every replica current, equal counts on every server, canary deleted", async (t) => {
    const cluster = await startCluster(t);
    const { nc, sys } = await clients(t, cluster);
    const stream = streamName();
    await createStream(nc, stream, { subjects: ["akira.cdr.>"], replicas: 1 });
    await fill(nc, stream, 100_000);

    const seen: ReplicaProgress[] = [];
    const result = await changeReplicas(nc, stream, 3, {
      timeoutMs: 60_000,
      systemConnection: sys,
      onProgress: (p) => seen.push(p),
    });

    assert.equal(result.before, 1);
    assert.equal(result.after, 3);
    assert.equal(result.changed, true);
    assert.equal(result.snapshot.cluster?.replicas.length, 2);
    assert.ok(result.snapshot.cluster?.replicas.every((r) => r.current && r.lag === 0 && !r.offline));
    assert.deepEqual(
      result.copies?.map((c) => [c.server, c.messages]),
      [
        ["nats-1", 100_000],
        ["nats-2", 100_000],
        ["nats-3", 100_000],
      ],
    );
    assert.equal(result.canary?.subject, "akira.cdr._akira_canary");
    assert.equal(result.canary?.deleted, true);
    assert.deepEqual(
      [seen[0]?.phase, seen.at(-1)?.phase],
      ["preflight", "done"],
      "progress starts at the preflight and ends with done",
    );
    // Independent of the code under test: each server's own monitoring endpoint.
    for (const node of cluster.nodes) {
      assert.equal(await jszMessages(node.monitorUrl, stream), 100_000, node.spec.name);
    }
    assert.equal((await streamSnapshotInfo(nc, stream)).state.messages, 100_000);
  });

  it("R3→R1 keeping a chosen peer: that peer holds the only copy", async (t) => {
    const cluster = await startCluster(t);
    const { nc, sys } = await clients(t, cluster);
    const stream = streamName();
    await createStream(nc, stream, { subjects: ["akira.cdr.>"], replicas: 3 });
    await fill(nc, stream, 1000);
    const leader = (await streamSnapshotInfo(nc, stream)).cluster?.leader;
    const keep = ["nats-1", "nats-2", "nats-3"].find((n) => n !== leader) as string;

    const result = await changeReplicas(nc, stream, 1, {
      timeoutMs: 60_000,
      systemConnection: sys,
      keepPeer: keep,
    });

    assert.equal(result.snapshot.cluster?.leader, keep);
    assert.deepEqual(result.snapshot.cluster?.replicas, []);
    assert.deepEqual(
      (await streamCopies(sys, "AKIRA", stream)).map((c) => [c.server, c.messages]),
      [[keep, 1000]],
    );
  });

  it("R3 with one node down: 10005 names the missing peer and nothing changes", async (t) => {
    const cluster = await startCluster(t);
    // Both clients on nats-1, so the node taken down is never the one they talk to.
    const { nc, sys } = await clients(t, cluster, cluster.nodes[0]?.url);
    const stream = streamName();
    await createStream(nc, stream, { subjects: ["akira.cdr.>"], replicas: 1 });
    const leader = (await streamSnapshotInfo(nc, stream)).cluster?.leader;
    const down = cluster.nodes.find((n) => n.spec.name !== leader && n.spec.name !== "nats-1");
    assert.ok(down);
    await down.stop();
    // Wait until the meta leader marks it offline (a condition, not a fixed sleep).
    const deadline = Date.now() + 30_000;
    while (!(await metaGroup(sys)).peers.some((p) => p.name === down.spec.name && !p.online)) {
      assert.ok(Date.now() < deadline, "meta leader never saw the node go");
      await new Promise((r) => setTimeout(r, 250));
    }

    const err = await changeReplicas(nc, stream, 3, { timeoutMs: 20_000, systemConnection: sys }).catch(
      (e) => e,
    );

    assert.ok(err instanceof JetStreamApiError);
    assert.equal(err.errCode, 10005);
    assert.equal(
      err.message,
      `no suitable peers to place 3 replicas of ${stream} (offline or missing: ${down.spec.name}): bring every node back (akira-nats server list --expect N) and retry; nothing was changed (preflight: 2 of 3 peers online and current, 10005)`,
    );
    assert.equal((await streamSnapshotInfo(nc, stream)).config.num_replicas, 1);
  });
});

describe("replicas - single-node pilot", () => {
  it("R3 on the pilot: 10074 names the single-node server and nothing changes", async (t) => {
    const pilot = await startPilot(t);
    const { nc, sys } = await clients(t, pilot);
    const stream = streamName();
    await createStream(nc, stream, { subjects: ["akira.cdr.>"] });

    assert.deepEqual(await metaGroup(sys), {
      clustered: false,
      clusterSize: 1,
      responders: ["akira-cache-01-staging"],
      peers: [{ name: "akira-cache-01-staging", online: true, current: true, leader: false }],
    });
    const err = await changeReplicas(nc, stream, 3, { timeoutMs: 10_000, systemConnection: sys }).catch(
      (e) => e,
    );

    assert.ok(err instanceof JetStreamApiError);
    assert.equal(
      err.message,
      `replicas > 1 are not supported on a non-clustered server: ${stream} lives on a single-node server (akira-cache-01-staging, the pilot); set streamReplicas to 1 for this stack (replicas > 1 not supported in non-clustered mode, 10074)`,
    );
    assert.equal((await streamSnapshotInfo(nc, stream)).config.num_replicas, 1);
  });

  it("bad replica count is refused before any server call", async (t) => {
    const pilot = await startPilot(t);
    const { nc } = await clients(t, pilot);
    const err = await changeReplicas(nc, "AKIRA_CDR", 7, { timeoutMs: 1000 }).catch((e) => e);
    assert.ok(err instanceof AkiraNatsError);
    assert.equal(err.message, "replicas for AKIRA_CDR must be an integer from 1 to 5, got 7");
  });
});
