import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expectedRoutes } from "../helpers/serverFacts";
import { startCluster, startPilot } from "../helpers/testServers";

describe("local nats - rendered configs run", () => {
  it("pilot - single node with JetStream is healthy", async (t) => {
    const pilot = await startPilot(t);
    const jsz = await (await fetch(`${pilot.nodes[0].monitorUrl}/jsz`)).json();
    assert.equal(jsz.meta_cluster, undefined);
    assert.equal(jsz.config.max_storage, 4 * 1024 ** 3);
  });

  it("cluster - three nodes form routes and elect a meta leader", async (t) => {
    const ga = await startCluster(t);
    const jsz = await (await fetch(`${ga.nodes[0].monitorUrl}/jsz`)).json();
    assert.equal(jsz.meta_cluster.name, "akira-ga");
    assert.equal(jsz.meta_cluster.cluster_size, 3);
    const routez = await (await fetch(`${ga.nodes[1].monitorUrl}/routez`)).json();
    assert.equal(routez.num_routes, await expectedRoutes(ga.nodes[1].monitorUrl, 3));
  });
});
