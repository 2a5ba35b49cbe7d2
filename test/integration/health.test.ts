/**
 * The health module (components/jetstream/health.ts) against a real cluster of the line under
 * test: what the servers report is read by the one set of rules the whole project uses.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CLIENT_ACCOUNT } from "../../components/jetstream/accounts";
import { connectNats } from "../../components/jetstream/connection";
import {
  allReplicasCurrent,
  describeReplica,
  metaGroupFormed,
  mostAdvanced,
  replicaCurrent,
  sameCopy,
} from "../../components/jetstream/health";
import { streamCopies } from "../../components/jetstream/peers";
import { streamSnapshotInfo } from "../../components/jetstream/streams";
import { waitFor } from "../../components/jetstream/waitFor";
import { startCluster } from "../helpers/testServers";

describe("health rules - on a real 3-node cluster", () => {
  it("formed, current, agreeing; then one node stopped: offline, not current, and said so", async (t) => {
    const ga = await startCluster(t);
    // Only the meta leader answers `leader-only`: ask every node, exactly one does.
    const answers = await Promise.all(
      ga.nodes.map(async (n) => {
        const res = await fetch(`${n.monitorUrl}/jsz?leader-only=true`);
        return res.ok
          ? ((await res.json()) as { meta_cluster?: { replicas?: { current: boolean }[] } })
          : undefined;
      }),
    );
    const fromLeader = answers.filter((a) => a !== undefined);
    assert.equal(fromLeader.length, 1);
    assert.equal(metaGroupFormed(fromLeader[0]?.meta_cluster?.replicas ?? [], 3), true);
    assert.equal(metaGroupFormed([{ current: true }], 3), false);

    const nc = await connectNats({
      servers: ga.servers,
      user: ga.user,
      password: ga.secrets.clientPassword,
      reconnect: true,
    });
    const sys = await connectNats({
      servers: ga.servers,
      user: ga.systemUser,
      password: ga.secrets.systemPassword,
      reconnect: true,
    });
    t.after(() => Promise.all([nc.close(), sys.close()]));
    await (await nc.jetstreamManager()).streams.add({
      name: "HEALTH",
      subjects: ["health.>"],
      num_replicas: 3,
    });
    const js = nc.jetstream();
    for (let i = 0; i < 50; i++) await js.publish("health.cdr", new TextEncoder().encode(`${i}`));

    const settled = await waitFor(
      async () => {
        const s = await streamSnapshotInfo(nc, "HEALTH");
        return allReplicasCurrent(s.cluster?.replicas ?? [], 3) ? s : undefined;
      },
      { timeoutMs: 20_000, what: "HEALTH at 3 current replicas" },
    );
    for (const r of settled.cluster?.replicas ?? []) assert.equal(describeReplica(r), `${r.name} current`);
    const copies = await streamCopies(sys, CLIENT_ACCOUNT, "HEALTH", { expectServers: 3 });
    const top = mostAdvanced(copies);
    assert.ok(
      top !== undefined && copies.length === 3 && copies.every((c) => sameCopy(c, top)),
      JSON.stringify(copies),
    );

    const follower = ga.nodes.find((n) => n.spec.name !== settled.cluster?.leader);
    assert.ok(follower !== undefined);
    await follower.stop();
    const seen = await waitFor(
      async () => {
        const r = (await streamSnapshotInfo(nc, "HEALTH")).cluster?.replicas.find(
          (x) => x.name === follower.spec.name,
        );
        return r?.offline ? r : undefined;
      },
      { timeoutMs: 30_000, what: `${follower.spec.name} reported offline` },
    );
    assert.equal(replicaCurrent(seen), false);
    assert.equal(describeReplica(seen), `${follower.spec.name} offline`);
    assert.equal(
      allReplicasCurrent((await streamSnapshotInfo(nc, "HEALTH")).cluster?.replicas ?? [], 3),
      false,
    );
  });
});
