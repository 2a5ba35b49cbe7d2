/**
 * The per-line table (components/jetstream/serverLines.ts) against a real server of the line under
 * test (whatever NATS_SERVER_BIN / the pinned line runs): every row the code acts on is measured.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connectNats } from "../../components/jetstream/connection";
import { metaGroup } from "../../components/jetstream/peers";
import { expectedRouteCount, isLeaderlessHealth, serverLine } from "../../components/jetstream/serverLines";
import { findStream } from "../../components/jetstream/streams";
import { waitFor } from "../../components/jetstream/waitFor";
import { createLocalCluster, randomSecrets } from "../../scripts/local/localNats";
import { varz } from "../helpers/serverFacts";
import { startPilot, tempDir } from "../helpers/testServers";

const healthz = async (monitorUrl: string) => {
  const res = await fetch(`${monitorUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, text: await res.text() };
};

describe("server lines - the table holds for the line under test", () => {
  it("standalone - not clustered for metaGroup, stream info read as unclustered", async (t) => {
    const pilot = await startPilot(t);
    const v = await varz(pilot.nodes[0].monitorUrl);
    const target = { servers: pilot.servers };
    const sys = await connectNats({
      ...target,
      user: pilot.systemUser,
      password: pilot.secrets.systemPassword,
    });
    const nc = await connectNats({ ...target, user: pilot.user, password: pilot.secrets.clientPassword });
    t.after(() => Promise.all([sys.close(), nc.close()]));
    assert.equal((await metaGroup(sys)).clustered, false);
    const name = `LINE_${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
    await (await nc.jetstreamManager()).streams.add({ name, subjects: [`line.${name}.>`] });
    // The raw answer differs per line; the library reads both alike.
    const raw = (await nc.request(`$JS.API.STREAM.INFO.${name}`, new Uint8Array(0), { timeout: 5000 })).json<{
      cluster?: { name?: string; leader?: string };
    }>();
    const shape =
      raw.cluster === undefined ? "absent" : raw.cluster.name === undefined ? "leader-only" : "named";
    assert.equal(shape, serverLine(v.version).standaloneStreamCluster);
    assert.equal((await findStream(nc, name))?.cluster, undefined);
  });

  it("cluster - routes per peer as the table says, and a lone node's health text is leaderless", {
    timeout: 120_000,
  }, async (t) => {
    const ga = await createLocalCluster({ dir: tempDir(t), secrets: randomSecrets() });
    t.after(() => ga.stop());
    await ga.start();
    await ga.waitHealthy(60_000);
    const [first] = ga.nodes;
    if (first === undefined) throw new Error("no node");
    const v = await varz(first.monitorUrl);
    const expected = expectedRouteCount(v.version, 3, v.cluster?.pool_size);
    const routez = await waitFor(
      async () => {
        const r = (await (await fetch(`${first.monitorUrl}/routez`)).json()) as { num_routes: number };
        return r.num_routes === expected ? r : undefined;
      },
      { timeoutMs: 20_000, what: `${expected} routes on ${first.spec.name} (nats-server ${v.version})` },
    );
    assert.equal(routez.num_routes, expected);

    // Every node stopped, one restarted alone: it can never find a meta leader.
    await ga.stop();
    await first.start();
    const answer = await waitFor(
      async () => {
        const h = await healthz(first.monitorUrl);
        return h.status !== 200 && isLeaderlessHealth(v.version, h.text) ? h : undefined;
      },
      { timeoutMs: 20_000, what: `a leaderless /healthz from a lone nats-server ${v.version}` },
    );
    assert.equal(answer.status, 503);
  });

  it("new cluster - a first meta leader with two of three peers exactly where the table says so", {
    timeout: 120_000,
  }, async (t) => {
    const ga = await createLocalCluster({ dir: tempDir(t), secrets: randomSecrets() });
    t.after(() => ga.stop());
    const [a, b] = ga.nodes;
    if (a === undefined || b === undefined) throw new Error("no nodes");
    await Promise.all([a.start(), b.start()]);
    const version = (await varz(a.monitorUrl)).version;
    const leaderWithin = async (ms: number) =>
      waitFor(
        async () => {
          const jsz = (await (await fetch(`${a.monitorUrl}/jsz`)).json()) as {
            meta_cluster?: { leader?: string };
          };
          return jsz.meta_cluster?.leader;
        },
        { timeoutMs: ms, what: "a meta leader" },
      ).then(
        () => true,
        () => false,
      );
    // 2.9 and 2.10 elect within about a second; 10 s is far beyond that.
    assert.equal(await leaderWithin(10_000), !serverLine(version).firstLeaderNeedsAllPeers);
  });
});
