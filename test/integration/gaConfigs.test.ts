/**
 * The configs Pulumi writes to the hosts, fed to a real nats-server: every one is accepted by
 * `nats-server -t` exactly as rendered for the VMs, and the GA trio, with its private IPs swapped
 * for 127.0.0.2–4 and the VM ports kept, forms its routes and elects a JetStream meta leader.
 * (On one machine the client listener binds the node's address instead of 0.0.0.0; everything
 * else is the VM text.) Last, the nodes' command text as NatsCluster composes it is run by bash on
 * three local hosts in chain order and brings the cluster up.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { renderCloudInitWait } from "../../components/cluster/cloudInit";
import { renderNatsSecrets } from "../../components/cluster/natsConf";
import { nodePrivateIps } from "../../components/cluster/network";
import { renderNodeCommand } from "../../components/cluster/nodeConfigCommand";
import {
  clusterNodeNames,
  clusterSecretsInput,
  type PlannedNode,
  pilotSecretsInput,
  renderClusterNodeConf,
  renderPilotConf,
} from "../../components/cluster/nodePlan";
import { maxFileStoreBytes } from "../../components/config/serverTypes";
import {
  assertNatsServerInstalled,
  LocalNatsNode,
  natsServerBin,
  randomSecrets,
} from "../../scripts/local/localNats";
import { packageLocalRelease } from "../../scripts/local/localRelease";
import { localHost, runNodeScript } from "../../scripts/local/localService";
import { binaryVersion } from "../../scripts/local/natsServerBin";
import { expectedRoutes } from "../helpers/serverFacts";
import { tempDir } from "../helpers/testServers";

const CLUSTER = "akira-ga";
const GA_NODES: PlannedNode[] = clusterNodeNames(CLUSTER, 3).map((name, i) => ({
  name,
  privateIp: nodePrivateIps("10.0.0.0/16", 3)[i] as string,
}));
const LOOPBACK_NODES: PlannedNode[] = GA_NODES.map((n, i) => ({ ...n, privateIp: `127.0.0.${i + 2}` }));

function natsServerTest(
  dir: string,
  conf: string,
  secrets: string,
): { status: number | null; output: string } {
  writeFileSync(join(dir, "nats-server.conf"), conf);
  writeFileSync(join(dir, "secrets.conf"), secrets, { mode: 0o600 });
  const r = spawnSync(natsServerBin(), ["-t", "-c", join(dir, "nats-server.conf")], { encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return (await res.json()) as Record<string, unknown>;
}

/** The INFO line a NATS server greets a client with. */
async function firstInfo(host: string, port: number): Promise<{ connect_urls?: string[] }> {
  const { connect } = await import("node:net");
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let buffer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf("\r\n");
      if (end < 0) return;
      socket.destroy();
      resolve(JSON.parse(buffer.slice("INFO ".length, end)));
    });
    socket.on("error", reject);
  });
}

/** Waits until the VM ports are free on every loopback node address (another run may hold them). */
async function waitVmPortsFree(): Promise<void> {
  for (const n of LOOPBACK_NODES) {
    for (const port of [4222, 6222, 8222]) {
      await waitFor(
        `${n.privateIp}:${port} free (another run of this test holding it?)`,
        async () => ((await canBind(n.privateIp, port)) ? true : undefined),
        60_000,
      );
    }
  }
}

/** Whether `host:port` can be bound right now. */
async function canBind(host: string, port: number): Promise<boolean> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not reached in ${timeoutMs} ms (${String(last)})`);
}

describe("GA configs - accepted by a real nats-server", () => {
  assertNatsServerInstalled();
  const secrets = randomSecrets();

  for (const [i, node] of GA_NODES.entries()) {
    it(`nats-server -t - ${node.name} as rendered for its VM (${node.privateIp})`, (t) => {
      const conf = renderClusterNodeConf(
        { clusterName: CLUSTER, nodes: GA_NODES, maxFileStoreBytes: maxFileStoreBytes("cx23") },
        i,
      );
      const r = natsServerTest(tempDir(t), conf, renderNatsSecrets(clusterSecretsInput(secrets, GA_NODES)));
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /configuration file .* is valid/);
    });
  }

  it("nats-server -t - the staging pilot as rendered for its host", (t) => {
    const conf = renderPilotConf({ serverName: "akira-cache-01-staging", maxFileStoreBytes: 10_000_000_000 });
    const r = natsServerTest(tempDir(t), conf, renderNatsSecrets(pilotSecretsInput(secrets)));
    assert.equal(r.status, 0, r.output);
  });
});

describe("GA configs - the three nodes run as a cluster on loopback with the VM ports", () => {
  it("routes form between every pair and a JetStream meta leader is elected", {
    timeout: 90_000,
  }, async (t) => {
    // The VM ports are fixed here (the point of the test): if another run holds them, wait for it.
    await waitVmPortsFree();
    const dir = tempDir(t);
    const secrets = randomSecrets();
    const secretsConf = renderNatsSecrets(clusterSecretsInput(secrets, LOOPBACK_NODES));
    const nodes = LOOPBACK_NODES.map((planned, i) => {
      const node = new LocalNatsNode(
        {
          name: planned.name,
          host: planned.privateIp,
          clientPort: 4222,
          monitorPort: 8222,
          clusterPort: 6222,
        },
        join(dir, planned.name),
      );
      node.writeConfig(
        renderClusterNodeConf(
          {
            clusterName: CLUSTER,
            nodes: LOOPBACK_NODES,
            maxFileStoreBytes: 1_000_000_000,
            storeDir: node.storeDir,
            // One machine: 0.0.0.0:4222 can be bound once only, so each node takes its own address.
            clientsOnPrivateIpOnly: true,
          },
          i,
        ),
        secretsConf,
      );
      return node;
    });
    t.after(() => Promise.all(nodes.map((n) => n.stop())));
    await Promise.all(nodes.map((n) => n.start()));
    await Promise.all(nodes.map((n) => n.waitHealthy(60_000)));

    // Every node has its line's routes to each peer (routez names peers by server id; 2.9 has no
    // remote_name; 2.10 and later pool several routes per peer).
    const ids = await Promise.all(
      nodes.map(async (n) => (await getJson(`${n.monitorUrl}/varz`)).server_id as string),
    );
    for (const [i, node] of nodes.entries()) {
      const expected = await expectedRoutes(node.monitorUrl, nodes.length);
      const routez = await waitFor(`${node.spec.name} routes`, async () => {
        const r = await getJson(`${node.monitorUrl}/routez`);
        return r.num_routes === expected ? r : undefined;
      });
      const remotes = [...new Set((routez.routes as { remote_id: string }[]).map((r) => r.remote_id))].sort();
      assert.deepEqual(remotes, ids.filter((_, j) => j !== i).sort(), `${node.spec.name} routes`);
    }
    const leader = await waitFor("meta leader", async () => {
      const jsz = await getJson(`${nodes[0]?.monitorUrl}/jsz`);
      const meta = jsz.meta_cluster as { leader?: string; cluster_size?: number; name?: string } | undefined;
      return meta?.leader ? meta : undefined;
    });
    assert.equal(leader.name, CLUSTER);
    assert.equal(leader.cluster_size, 3);
    assert.ok(
      LOOPBACK_NODES.some((n) => n.name === leader.leader),
      `leader ${leader.leader}`,
    );
    // Clients learn every node through gossip: a client connected to one node is told the others'
    // advertised addresses (connect_urls in INFO), which is what a rolling restart relies on.
    const info = await firstInfo("127.0.0.2", 4222);
    assert.deepEqual([...(info.connect_urls ?? [])].sort(), [
      "127.0.0.2:4222",
      "127.0.0.3:4222",
      "127.0.0.4:4222",
    ]);
  });
});

describe("GA node commands - the program's command text, run by bash in chain order", () => {
  it("three local hosts: cloud-init wait, verified install, validated config, cluster formed; a re-run is a no-op", {
    timeout: 180_000,
  }, async (t) => {
    await waitVmPortsFree();
    // The cloud-init wait checks for the `nats` user, as on a VM; Debian's nats-server package
    // (what CI installs) creates it.
    const natsUser = spawnSync("getent", ["passwd", "nats"], { encoding: "utf8" });
    assert.equal(
      natsUser.status,
      0,
      "no nats user on this machine: apt-get install -y nats-server creates it",
    );
    // One clean-up, in this order: the servers are found through pid files inside the directory.
    const dir = mkdtempSync(join(tmpdir(), "akira-nats-cmd-"));
    const hosts = LOOPBACK_NODES.map((n) => localHost(join(dir, n.name)));
    t.after(async () => {
      await Promise.all(hosts.map((h) => h.kill()));
      rmSync(dir, { recursive: true, force: true });
    });
    const release = packageLocalRelease(dir, binaryVersion(natsServerBin()) ?? "unknown");
    const secretsConf = renderNatsSecrets(clusterSecretsInput(randomSecrets(), LOOPBACK_NODES));
    // The command text exactly as NatsCluster composes it, but for the host's paths and service
    // commands (a directory instead of /, a background process instead of systemd).
    const commands = LOOPBACK_NODES.map((node, i) =>
      renderNodeCommand("wait-for-cloud-init", {
        natsVersion: release.version,
        natsSha256: release.sha256,
        confText: renderClusterNodeConf(
          {
            clusterName: CLUSTER,
            nodes: LOOPBACK_NODES,
            maxFileStoreBytes: 1_000_000_000,
            storeDir: join(hosts[i]?.root as string, "var/lib/nats"),
            clientsOnPrivateIpOnly: true,
          },
          i,
        ),
        monitorUrl: `http://${node.privateIp}:8222`,
        paths: hosts[i]?.paths,
        service: hosts[i]?.service,
        releaseBaseUrl: release.baseUrl,
        healthTimeoutSec: 60,
        configOwner: "",
      }),
    );
    for (const command of commands) assert.ok(command.startsWith(renderCloudInitWait()));

    // In chain order, as the commands' dependsOn runs them; each must succeed before the next.
    for (const [i, command] of commands.entries()) {
      const run = await runNodeScript(command, secretsConf);
      assert.equal(run.code, 0, `${LOOPBACK_NODES[i]?.name}: ${run.stderr}`);
      assert.ok(run.stdout.includes(`healthy: nats-server ${release.version}`), run.stdout);
      assert.ok(!`${run.stdout}${run.stderr}`.includes(secretsConf.split("\n")[1] as string));
    }
    const meta = await waitFor("meta leader", async () => {
      const jsz = await getJson("http://127.0.0.2:8222/jsz");
      const m = jsz.meta_cluster as { leader?: string; cluster_size?: number } | undefined;
      // Nodes 1 and 2 may elect a leader before node 3 is known: wait until all three are.
      return m?.leader && m.cluster_size === 3 ? m : undefined;
    });
    assert.ok(
      LOOPBACK_NODES.some((n) => n.name === meta.leader),
      `leader ${meta.leader}`,
    );

    // An unchanged `pulumi up` does not re-run the command; if it did, nothing would change.
    const again = await runNodeScript(commands[0] as string, secretsConf);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(
      again.stdout.includes(`unchanged: nats-server ${release.version} healthy, nothing to do`),
      again.stdout,
    );
  });
});
