/**
 * Local nodes driven by the node script instead of by LocalNatsNode: each node is a "host" rooted
 * in a directory (its own /etc/nats, /opt/nats, /usr/local/bin), configured from the configs that
 * createLocalCluster rendered, and rolled in order the way the Pulumi program chains the nodes'
 * remote commands (each depends on the previous one, so the first failure stops the roll).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SECRETS_FILE } from "../../components/cluster/natsConf";
import { type NodeScriptInput, renderNodeScript } from "../../components/cluster/nodeScript";
import type { LocalDeployment } from "./localNats";
import type { LocalRelease } from "./localRelease";
import { type LocalHost, localHost, runNodeScript, type ScriptRun } from "./localService";

export interface ScriptedNode {
  readonly name: string;
  readonly host: LocalHost;
  /** nats-server.conf as rendered for this node. */
  readonly confText: string;
  /** secrets.conf as rendered for this node (fed on STDIN). */
  readonly secretsText: string;
  readonly monitorUrl: string;
  /** Client URL without credentials. */
  readonly url: string;
}

/** One scripted host per node of a rendered (not started) local deployment, under `<root>/<name>`. */
export function scriptedNodes(deployment: LocalDeployment, root: string): ScriptedNode[] {
  return deployment.nodes.map((node) => ({
    name: node.spec.name,
    host: localHost(join(root, node.spec.name)),
    confText: readFileSync(node.confPath, "utf8"),
    secretsText: readFileSync(join(node.dir, SECRETS_FILE), "utf8"),
    monitorUrl: node.monitorUrl,
    url: node.url,
  }));
}

export type ScriptOverrides = Partial<
  Pick<NodeScriptInput, "confText" | "healthTimeoutSec" | "stopTimeoutSec">
>;

/** The node script for `node` installing `release`, exactly as a VM gets it but for paths and service. */
export function scriptFor(
  node: ScriptedNode,
  release: LocalRelease,
  overrides: ScriptOverrides = {},
): string {
  return renderNodeScript({
    natsVersion: release.version,
    natsSha256: release.sha256,
    confText: overrides.confText ?? node.confText,
    monitorUrl: node.monitorUrl,
    paths: node.host.paths,
    service: node.host.service,
    releaseBaseUrl: release.baseUrl,
    healthTimeoutSec: overrides.healthTimeoutSec ?? 60,
    stopTimeoutSec: overrides.stopTimeoutSec ?? 90,
    configOwner: "",
  });
}

/** Runs `script` on the node's host with its secrets on STDIN. */
export function runOn(node: ScriptedNode, script: string): Promise<ScriptRun> {
  return runNodeScript(script, node.secretsText);
}

export interface NodeRoll extends ScriptRun {
  readonly name: string;
  readonly startedAt: number;
  readonly ms: number;
}

export interface RollProgress {
  readonly phase: "node-start" | "node-done" | "node-failed";
  readonly node: string;
  readonly index: number;
  readonly ms?: number;
}

/**
 * Runs each node's script in order, the next only after the previous exited 0 (its /healthz gate
 * passed). Stops at the first failure; the nodes after it are not touched.
 */
export async function rollNodes(
  nodes: readonly ScriptedNode[],
  script: (node: ScriptedNode) => string,
  onProgress?: (p: RollProgress) => void | Promise<void>,
): Promise<NodeRoll[]> {
  const done: NodeRoll[] = [];
  for (const [index, node] of nodes.entries()) {
    await onProgress?.({ phase: "node-start", node: node.name, index });
    const startedAt = Date.now();
    const run = await runOn(node, script(node));
    const roll: NodeRoll = { ...run, name: node.name, startedAt, ms: Date.now() - startedAt };
    done.push(roll);
    await onProgress?.({
      phase: run.code === 0 ? "node-done" : "node-failed",
      node: node.name,
      index,
      ms: roll.ms,
    });
    if (run.code !== 0) break;
  }
  return done;
}

/** Status code and body of `<monitorUrl><path>`; status 0 when nothing answers. */
export async function monitorGet(
  monitorUrl: string,
  path: string,
): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`${monitorUrl}${path}`, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: "" };
  }
}
