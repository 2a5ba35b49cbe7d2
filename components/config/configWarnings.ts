/**
 * What a valid stack config should still make the operator stop and read: returned with the config
 * by `parseStackConfig` / `readStackConfig` (config.ts) and printed by `pulumi preview` (index.ts,
 * `pulumi.log.warn`). Errors refuse the run; these only say what will happen.
 */

import { parseVersion, SUPPORT_POLICY } from "../jetstream/serverLines";
import type { StackConfig } from "./config";
import { qualifiedKey } from "./configKeys";
import { CHECKED, NEWEST_KNOWN_RELEASE } from "./natsAdvisories";

/** Minor lines between `version` and the newest release the advisory table knows (0 when on it). */
export function minorsBehindNewest(version: string): number {
  const v = parseVersion(version);
  const newest = parseVersion(NEWEST_KNOWN_RELEASE);
  if (v === undefined || newest === undefined || v[0] !== newest[0]) return 0;
  return Math.max(0, newest[1] - v[1]);
}

export function configWarnings(config: StackConfig): string[] {
  const warnings: string[] = [];
  const behind = minorsBehindNewest(config.natsVersion);
  if (behind > 1) {
    warnings.push(
      `${qualifiedKey("natsVersion")} ${config.natsVersion} is ${behind} minor lines behind ${NEWEST_KNOWN_RELEASE}, the newest release known on ${CHECKED}: ${SUPPORT_POLICY}. Plan the move (docs/rolling-upgrades.md)`,
    );
  }
  if (config.mode === "single") {
    const running = config.pilotRunningVersion;
    if (running === undefined) {
      warnings.push(
        `${qualifiedKey("pilotRunningVersion")} is not set: preview cannot say whether the first \`pulumi up\` on staging changes the pilot's nats-server. Set it to what the pilot runs (the cutover's preflight prints it): pulumi config set ${qualifiedKey("pilotRunningVersion")} <x.y.z>`,
      );
    } else if (running !== config.natsVersion) {
      warnings.push(
        `the first \`pulumi up\` on staging changes the pilot's nats-server from ${running} to ${config.natsVersion}: back up its stream first (akira-nats stream backup)`,
      );
    }
  }
  return warnings;
}
