/**
 * The node script rolling a real 3-node JetStream cluster, one node at a time, in the order the
 * Pulumi program chains the nodes' remote commands: the order, the /healthz gate between nodes,
 * and stop-on-failure (a node given a config that validates but cannot start: the roll halts
 * there, the nodes after it are untouched, the cluster keeps its quorum).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect, type NatsConnection, StorageType } from "nats";
import { isLeaderlessHealth } from "../../components/jetstream/serverLines";
import { assertNatsServerInstalled, createLocalCluster, randomSecrets } from "../../scripts/local/localNats";
import { type LocalRelease, packageLocalRelease } from "../../scripts/local/localRelease";
import { binaryVersion, natsServerBin } from "../../scripts/local/natsServerBin";
import {
  monitorGet,
  rollNodes,
  runOn,
  type ScriptedNode,
  scriptedNodes,
  scriptFor,
} from "../../scripts/local/scriptedNodes";

const STREAM = "AKIRA_CDR";

function confOnHost(node: ScriptedNode): string {
  return readFileSync(join(node.host.paths.confDir, "nats-server.conf"), "utf8");
}

async function metaLeader(node: ScriptedNode): Promise<string> {
  const jsz = await monitorGet(node.monitorUrl, "/jsz");
  return (JSON.parse(jsz.body) as { meta_cluster?: { leader?: string } }).meta_cluster?.leader ?? "";
}

const VERSION = binaryVersion(natsServerBin()) ?? "unknown";
const NEXT = `${VERSION}-relabelled`;

describe("node script - rolling a 3-node cluster", () => {
  const dir = mkdtempSync(join(tmpdir(), "akira-roll-"));
  const secrets = randomSecrets();
  let nodes: ScriptedNode[] = [];
  let v1: LocalRelease;
  let v2: LocalRelease;
  let nc: NatsConnection | undefined;

  after(async () => {
    await nc?.close();
    for (const n of nodes) await n.host.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  before(async () => {
    assertNatsServerInstalled();
    // The binary under test under its real version, then the same binary relabelled: the roll's
    // mechanics (order, health gate, halt) are what this file proves; a real change of line is
    // test/cross-version/rollingUpgrade.test.ts.
    v1 = packageLocalRelease(dir, VERSION);
    v2 = packageLocalRelease(dir, NEXT);
    const cluster = await createLocalCluster({ dir: join(dir, "render"), secrets });
    // Lame duck waits its grace period before it closes the clients; 1 s keeps the test short.
    nodes = scriptedNodes(cluster, join(dir, "hosts")).map((n) => ({
      ...n,
      confText: n.confText.replace('lame_duck_grace_period: "10s"', 'lame_duck_grace_period: "1s"'),
    }));
  });

  test("first deployment, chained - a node that cannot start stops it; fixed, the re-run passes the untouched leaderless node and forms the cluster", async () => {
    const [first, second, third] = nodes as [ScriptedNode, ScriptedNode, ScriptedNode];
    const squatter = await listenOn("127.0.0.3");
    const unstartable = second.confText.replace(/^port: \d+$/m, `port: ${port(squatter)}`);
    const broken = await rollNodes(nodes, (n) =>
      scriptFor(n, v1, { confText: n === second ? unstartable : n.confText, healthTimeoutSec: 10 }),
    );
    squatter.close();
    assert.deepEqual(
      broken.map((r) => [r.name, r.code]),
      [
        ["nats-1", 0],
        ["nats-2", 1],
      ],
    );
    assert.equal(existsSync(third.host.paths.binLink), false, "nats-3 not touched");

    // nats-1 is unchanged but alone: no meta leader. It must not block nats-2 and nats-3 forever.
    const fixed = await rollNodes(nodes, (n) => scriptFor(n, v1, { healthTimeoutSec: n === first ? 3 : 60 }));
    assert.deepEqual(
      fixed.map((r) => [r.name, r.code, r.stderr]),
      [
        ["nats-1", 0, ""],
        ["nats-2", 0, ""],
        ["nats-3", 0, ""],
      ],
    );
    // nats-1 never saw a formed cluster: its gate is "JetStream enabled", so it does not wait for a
    // meta leader that (from 2.11 on) cannot exist before nats-3 is deployed.
    assert.equal(
      fixed[0]?.stdout,
      `akira-nats node: nats-server ${VERSION} already installed in ${join(first.host.paths.installDir, VERSION)}\nakira-nats node: unchanged: nats-server ${VERSION} healthy, nothing to do\n`,
    );
    for (const n of nodes)
      await waitFor(async () => (await monitorGet(n.monitorUrl, "/healthz")).status === 200);
    nc = await connect({
      servers: nodes.map((n) => n.url),
      user: "akira",
      pass: secrets.clientPassword,
      timeout: 5000,
    });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: STREAM,
      subjects: ["akira.cdr.>"],
      num_replicas: 3,
      storage: StorageType.File,
    });
    const js = nc.jetstream();
    for (let i = 0; i < 50; i++)
      await js.publish(`akira.cdr.c${i % 5}`, `cdr-${i}`, { msgID: `before-${i}` });
  });

  test("version bump - one node at a time, in order, each healthy before the next is touched", async () => {
    assert.ok(nodes.length === 3);
    const pids = nodes.map((n) => n.host.pid());
    const order: string[] = [];
    const rolls = await rollNodes(
      nodes,
      (n) => scriptFor(n, v2),
      async (p) => {
        order.push(`${p.phase}:${p.node}`);
        for (const [j, other] of nodes.entries()) {
          const rolled = j < p.index || (j === p.index && p.phase === "node-done");
          assert.equal(
            readlinkSync(other.host.paths.binLink),
            join(other.host.paths.installDir, rolled ? NEXT : VERSION, "nats-server"),
            `${other.name} at ${p.phase} of ${p.node}`,
          );
          if (!rolled) assert.equal(other.host.pid(), pids[j], `${other.name} untouched before its turn`);
          // The gate: the node just rolled is fully healthy the moment its script returns.
          if (j === p.index && p.phase === "node-done") {
            assert.equal((await monitorGet(other.monitorUrl, "/healthz")).status, 200);
          }
        }
      },
    );
    assert.deepEqual(order, [
      "node-start:nats-1",
      "node-done:nats-1",
      "node-start:nats-2",
      "node-done:nats-2",
      "node-start:nats-3",
      "node-done:nats-3",
    ]);
    for (const [i, r] of rolls.entries()) {
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(`akira-nats node: changes: binary -> ${NEXT}\n`), r.stdout);
      assert.match(r.stdout, /akira-nats node: lame-duck mode for pid \d+: leaders move to the peers/);
      assert.ok(
        r.stdout.endsWith(
          `akira-nats node: healthy: nats-server ${NEXT}, ${nodes[i]?.monitorUrl}/healthz ok\n`,
        ),
      );
      assert.notEqual(nodes[i]?.host.pid(), pids[i]);
    }
    const info = await (await (nc as NatsConnection).jetstreamManager()).streams.info(STREAM);
    assert.equal(info.state.messages, 50);
    assert.ok(info.cluster?.leader);
    assert.equal(info.cluster?.replicas?.length, 2);
  });

  test("a node whose new config validates but cannot start - the roll halts there, later nodes untouched, quorum kept", async () => {
    const [first, second, third] = nodes as [ScriptedNode, ScriptedNode, ScriptedNode];
    const changed = (n: ScriptedNode) =>
      n.confText.replace('lame_duck_grace_period: "1s"', 'lame_duck_grace_period: "2s"');
    // Port taken by another listener: `nats-server -t` accepts the file, the start fails.
    const squatter = await listenOn("127.0.0.3");
    after(() => squatter.close());
    const unstartable = changed(second).replace(/^port: \d+$/m, `port: ${port(squatter)}`);
    assert.notEqual(unstartable, changed(second));
    const thirdPid = third.host.pid();
    const thirdConf = confOnHost(third);

    const rolls = await rollNodes(nodes, (n) =>
      scriptFor(n, v2, { confText: n === second ? unstartable : changed(n), healthTimeoutSec: 20 }),
    );

    assert.deepEqual(
      rolls.map((r) => [r.name, r.code]),
      [
        ["nats-1", 0],
        ["nats-2", 1],
      ],
    );
    assert.match(rolls[1]?.stderr ?? "", /address already in use/);
    assert.ok(
      rolls[1]?.stderr.endsWith(
        "akira-nats node: nats-server is not running after the start (log above): fix the cause and re-run pulumi up; the roll stops at this node\n",
      ),
      rolls[1]?.stderr,
    );
    assert.equal(confOnHost(first), changed(first));
    assert.equal(third.host.pid(), thirdPid, "nats-3 untouched");
    assert.equal(confOnHost(third), thirdConf);

    // Two of three: a meta leader, the stream led and taking acknowledged publishes.
    await waitFor(async () => (await metaLeader(third)) !== "");
    assert.notEqual(await metaLeader(first), "");
    const js = (nc as NatsConnection).jetstream();
    for (let i = 0; i < 10; i++) {
      const ack = await js.publish(`akira.cdr.c${i}`, `during-${i}`, {
        msgID: `during-${i}`,
        timeout: 10_000,
      });
      assert.equal(ack.stream, STREAM);
      assert.equal(ack.duplicate, false);
    }

    // Fixing the config and re-running brings the node back.
    const fixed = await runOn(second, scriptFor(second, v2, { confText: changed(second) }));
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal((await monitorGet(second.monitorUrl, "/healthz")).status, 200);
  });

  test("peers down after the cluster formed - the untouched node waits its timeout, then lets the run go on", async () => {
    const [first, second, third] = nodes as [ScriptedNode, ScriptedNode, ScriptedNode];
    assert.ok(
      existsSync(join(first.host.paths.confDir, ".jetstream-formed")),
      "nats-1 saw the cluster formed",
    );
    await second.host.kill();
    await third.host.kill();
    // Alone, nats-1 has no meta leader; its line's health text says so (serverLines.ts).
    const version = (JSON.parse((await monitorGet(first.monitorUrl, "/varz")).body) as { version: string })
      .version;
    await waitFor(async () =>
      isLeaderlessHealth(version, (await monitorGet(first.monitorUrl, "/healthz")).body),
    );
    // The config nats-1 runs since the test before: nothing changes, only the health gate runs.
    const unchanged = first.confText.replace('lame_duck_grace_period: "1s"', 'lame_duck_grace_period: "2s"');
    const r = await runOn(first, scriptFor(first, v2, { confText: unchanged, healthTimeoutSec: 3 }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        `akira-nats node: nats-server ${NEXT} already installed in ${join(first.host.paths.installDir, NEXT)}`,
        "akira-nats node: warning: no JetStream meta leader within 3 s (the peers are down or not deployed yet); this node was left as it was, continuing so the next nodes can come up",
        `akira-nats node: unchanged: nats-server ${NEXT} running without a meta leader, nothing to do`,
        "",
      ].join("\n"),
    );
  });
});

async function listenOn(host: string): Promise<Server> {
  const server = createServer();
  server.listen(0, host);
  await new Promise((r) => server.once("listening", r));
  return server;
}

function port(server: Server): number {
  return (server.address() as { port: number }).port;
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
