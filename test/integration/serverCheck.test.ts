import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { streamInfoRaw } from "../../components/jetstream/jsApiRequest";
import { listServers, TooFewServersError } from "../../components/jetstream/servers";
import { checkStream, type StreamCheckResult } from "../../components/jetstream/streamCheck";
import { waitFor } from "../../components/jetstream/waitFor";
import type { LocalDeployment, LocalNatsNode } from "../../scripts/local/localNats";
import { runCli } from "../helpers/runCli";
import { expectedRoutes, varz } from "../helpers/serverFacts";
import { startCluster } from "../helpers/testServers";

/** Re-runs the check until its line is `want` (replica flags settle within a few heartbeats). */
async function checkUntil(nc: NatsConnection, want: string, stream: string): Promise<StreamCheckResult> {
  const deadline = Date.now() + 15_000;
  let r = await checkStream(nc, { stream });
  while (r.line !== want && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 200));
    r = await checkStream(nc, { stream });
  }
  return r;
}

describe("server list and server check stream - 3-node cluster", () => {
  let cluster: LocalDeployment;
  let nc: NatsConnection;
  let stopped: LocalNatsNode;
  let survivor: LocalNatsNode;
  const hooks: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => hooks.push(fn) };
  const sysTarget = () => ({
    servers: survivor.url,
    user: cluster.systemUser,
    password: cluster.secrets.systemPassword,
  });

  before(async () => {
    cluster = await startCluster(t);
    const all = await connectNats({
      servers: cluster.servers,
      user: cluster.user,
      password: cluster.secrets.clientPassword,
    });
    const jsm = await all.jetstreamManager();
    await jsm.streams.add({ name: "CHECKED", subjects: ["checked.>"], num_replicas: 3 });
    const leader = (await streamInfoRaw(all, "CHECKED")).cluster?.leader;
    await all.close();
    // Talk to the leader only, so stopping a follower never drops our connections.
    survivor = cluster.nodes.find((n) => n.spec.name === leader) as LocalNatsNode;
    stopped = cluster.nodes.find((n) => n.spec.name !== leader) as LocalNatsNode;
    nc = await connectNats({
      servers: survivor.url,
      user: cluster.user,
      password: cluster.secrets.clientPassword,
    });
  });
  after(async () => {
    await nc?.close();
    for (const h of hooks.reverse()) await h();
  });

  it("all up - 3 of 3 servers listed, stream check OK", async () => {
    // A pooled route (2.10+) can still be connecting when the meta group has formed: the count is
    // compared once it stopped growing towards what the line's table says.
    const want = await Promise.all(cluster.nodes.map((n) => expectedRoutes(n.monitorUrl, 3)));
    const servers = await waitFor(
      async () => {
        const listed = await listServers(sysTarget(), { expect: 3 });
        return listed.every((s, i) => s.routes >= (want[i] ?? 0)) ? listed : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 250, what: "every route of the cluster" },
    ).catch(() => listServers(sysTarget(), { expect: 3 }));
    assert.deepEqual(
      servers.map((s) => [s.name, s.cluster, s.host, s.version, s.jetstream, s.routes]),
      // Version and route count as each server and its line's table say (2.10+ pools routes).
      await Promise.all(
        cluster.nodes.map(async (n) => [
          n.spec.name,
          "akira-ga",
          n.spec.host,
          (await varz(n.monitorUrl)).version,
          true,
          await expectedRoutes(n.monitorUrl, 3),
        ]),
      ),
    );
    assert.ok(servers.every((s) => s.uptimeMs > 0));
    const ok = "OK CHECKED OK:3 peers OK:replicas are current | peers=3;;3 offline=0 not_current=0";
    assert.deepEqual(await checkUntil(nc, ok, "CHECKED"), { status: 0, line: ok });
  });

  it("one node stopped - 2 of 3 is an error naming who answered, stream check CRITICAL", async () => {
    await stopped.stop();
    const err = await listServers(sysTarget(), { expect: 3, timeoutMs: 1500 }).catch((e) => e);
    assert.ok(err instanceof TooFewServersError);
    const answered = cluster.nodes.filter((n) => n !== stopped).map((n) => n.spec.name);
    const message = `only 2 of 3 expected servers answered (${answered.join(", ")}): start the missing server(s) and check the routes, then run \`akira-nats server list --expect 3\` again`;
    assert.equal(err.message, message);

    const crit = `CRITICAL CHECKED Crit:1 replicas offline (${stopped.spec.name}) OK:3 peers | peers=3;;3 offline=1 not_current=0`;
    assert.deepEqual(await checkUntil(nc, crit, "CHECKED"), { status: 2, line: crit });

    const env = {
      NATS_URL: survivor.url,
      NATS_USER: cluster.systemUser,
      NATS_PASSWORD: cluster.secrets.systemPassword,
    };
    const [list, check] = await Promise.all([
      runCli(["server", "list", "--expect", "3", "--wait", "1500"], env),
      runCli(["server", "check", "stream", "--stream", "CHECKED", "--user", cluster.user], {
        ...env,
        NATS_PASSWORD: cluster.secrets.clientPassword,
      }),
    ]);
    assert.equal(list.code, 1);
    assert.equal(list.stderr, `akira-nats: ${message}\n`);
    assert.match(list.stdout, /^Server Overview\n/);
    assert.deepEqual([check.code, check.stdout, check.stderr], [2, `${crit}\n`, ""]);
  });
});
