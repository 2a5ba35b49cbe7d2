/**
 * Which nats-server binaries the rehearsal's pilot and GA nodes run, and what the running servers
 * say they are. The report's versions come from each server's `/varz`, never from a flag: a
 * wrapper script or a wrong path must not be able to make the report claim a line it did not run.
 */
import { PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";
import type { LocalDeployment } from "../local/localNats";
import { binaryVersion, natsServerBin } from "../local/natsServerBin";

export interface RehearsalBinary {
  readonly bin: string;
  /** What `bin --version` says. */
  readonly version: string;
}

/** The binary behind `flag` (default: `$NATS_SERVER_BIN`, else the pinned line), checked to run. */
export function rehearsalBinary(path: string | undefined, flag: string): RehearsalBinary {
  const bin = path ?? natsServerBin();
  const version = binaryVersion(bin);
  if (version === undefined) {
    throw new Error(
      `${flag} ${bin}: not a nats-server that runs (\`${bin} --version\` failed); run bin/setup, or give the path of a nats-server binary`,
    );
  }
  return { bin, version };
}

/** One line for the rehearsal's start: each side's version, binary and whether it is the pin. */
export function describeBinaries(pilot: RehearsalBinary, ga: RehearsalBinary): string {
  const side = (name: string, b: RehearsalBinary) =>
    `${name}: nats-server ${b.version} (${b.bin})${b.version === PINNED_NATS_VERSION ? ", the pinned line" : ""}`;
  return `rehearsal servers: ${side("pilot", pilot)}; ${side("GA", ga)}`;
}

/** What the server behind a monitoring URL says it is (`/varz` `version`), or undefined. */
export async function monitorVersion(monitorUrl: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${monitorUrl}/varz`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as { version?: string }).version : undefined;
  } catch {
    return undefined;
  }
}

/** `/varz` `version` of the first running node of `d`, or null when none answers. */
export async function varzVersion(d: LocalDeployment): Promise<string | null> {
  for (const node of d.nodes) {
    const version = node.running ? await monitorVersion(node.monitorUrl) : undefined;
    if (version !== undefined) return version;
  }
  return null;
}
