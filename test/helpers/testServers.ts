/** Test fixtures: real nats-server processes in a temporary directory, stopped when the test ends. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import {
  createLocalCluster,
  createLocalPilot,
  type LocalClusterOptions,
  type LocalDeployment,
  type LocalPilotOptions,
  randomSecrets,
} from "../../scripts/local/localNats";

export function tempDir(t: TestContext | { after(fn: () => unknown): void }, prefix = "akira-nats-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

type Hooks = { after(fn: () => unknown): void };

/** A running 3-node cluster (random ports on 127.0.0.2–4 unless told otherwise), healthy. */
export async function startCluster(
  t: Hooks,
  opts: Partial<LocalClusterOptions> = {},
): Promise<LocalDeployment> {
  const d = await createLocalCluster({ dir: tempDir(t), secrets: randomSecrets(), ...opts });
  t.after(() => d.stop());
  await d.start();
  await d.waitHealthy();
  return d;
}

/** A running single-node pilot (random ports on 127.0.0.1 unless told otherwise), healthy. */
export async function startPilot(t: Hooks, opts: Partial<LocalPilotOptions> = {}): Promise<LocalDeployment> {
  const d = await createLocalPilot({ dir: tempDir(t), secrets: randomSecrets(), ...opts });
  t.after(() => d.stop());
  await d.start();
  await d.waitHealthy();
  return d;
}
