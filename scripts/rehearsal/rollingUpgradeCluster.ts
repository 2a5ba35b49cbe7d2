/**
 * The cluster the rolling-upgrade rehearsal rolls: both releases packaged the way a VM downloads
 * them, the configs createLocalCluster renders, and one scripted host per node that the node script
 * itself starts on the first release, so the first boot is as much under test as the rolls.
 */
import { join } from "node:path";
import { CLIENT_USER } from "../../components/cluster/natsConf";
import type { ConnectionTarget } from "../../components/jetstream/connection";
import { waitFor } from "../../components/jetstream/waitFor";
import { createLocalCluster, randomSecrets } from "../local/localNats";
import { type LocalRelease, packageLocalRelease } from "../local/localRelease";
import { monitorGet, runOn, type ScriptedNode, scriptedNodes, scriptFor } from "../local/scriptedNodes";
import type { RollingUpgradeProgress } from "./rollingUpgradeReport";
import type { RehearsalBinary } from "./serverVersions";

/** The rehearsal's options the cluster is made from (see RollingUpgradeOptions). */
export interface RollingClusterOptions {
  readonly dir: string;
  readonly hosts?: readonly string[];
  readonly ports?: "vm" | "random";
  readonly lameDuckGracePeriod?: string;
}

export interface RollingCluster {
  /** The release the nodes start on. */
  readonly from: LocalRelease;
  /** The release rolled out. */
  readonly to: LocalRelease;
  readonly nodes: readonly ScriptedNode[];
  /** The client account on every node. */
  readonly target: ConnectionTarget;
}

/** Packages both releases and renders every node's config; nothing runs yet. */
export async function scriptedCluster(
  opts: RollingClusterOptions,
  fromBin: RehearsalBinary,
  toBin: RehearsalBinary,
): Promise<RollingCluster> {
  const from = packageLocalRelease(opts.dir, fromBin.version, fromBin.bin);
  const to = packageLocalRelease(opts.dir, toBin.version, toBin.bin);
  const secrets = randomSecrets();
  const cluster = await createLocalCluster({
    dir: join(opts.dir, "render"),
    secrets,
    ...(opts.hosts === undefined ? {} : { hosts: opts.hosts }),
    ports: opts.ports ?? "random",
  });
  const nodes = withGracePeriod(scriptedNodes(cluster, join(opts.dir, "hosts")), opts.lameDuckGracePeriod);
  const target = { servers: nodes.map((n) => n.url), user: CLIENT_USER, password: secrets.clientPassword };
  return { from, to, nodes, target };
}

/**
 * Every roll sits out the lame-duck grace period once per node and pass; the VMs' 10 s add up,
 * so a test may ask for less.
 */
function withGracePeriod(nodes: readonly ScriptedNode[], grace: string | undefined): ScriptedNode[] {
  return nodes.map((n) => ({
    ...n,
    confText:
      grace === undefined
        ? n.confText
        : n.confText.replace(/^lame_duck_grace_period: .*$/m, `lame_duck_grace_period: "${grace}"`),
  }));
}

/** Starts every node on the first release through the node script, then waits for each /healthz. */
export async function startCluster(
  cluster: RollingCluster,
  emit: (e: RollingUpgradeProgress) => void,
): Promise<void> {
  const { nodes, from } = cluster;
  const first = await Promise.all(nodes.map((n) => runOn(n, scriptFor(n, from))));
  first.forEach((r, i) => {
    if (r.code !== 0) throw new Error(`starting ${nodes[i]?.name} on ${from.version} failed:\n${r.stderr}`);
  });
  for (const n of nodes) {
    await waitFor(
      async () => ((await monitorGet(n.monitorUrl, "/healthz")).status === 200 ? true : undefined),
      {
        timeoutMs: 60_000,
        what: `${n.name}/healthz`,
      },
    );
  }
  emit({ phase: "cluster-up", nodes: nodes.map((n) => n.name), version: from.version });
}

/** Stops every node's service, however far the rehearsal got. */
export async function stopCluster(cluster: RollingCluster): Promise<void> {
  await Promise.all(cluster.nodes.map((n) => n.host.stop()));
}
