/**
 * What nats-server the pilot really runs, against what the staging stack pins. The first `pulumi
 * up --stack staging` (the rollback's last step, or any day-2 run) installs the pinned release on
 * the pilot: a change is said out loud, and one outside the upgrade document's support policy (a
 * downgrade beyond one patch, a jump over a minor line) is refused unless the stack accepts it.
 */
import type { NatsConnection } from "nats";
import type { StackConfig } from "../../components/config/config";
import { qualifiedKey } from "../../components/config/configKeys";
import { unsupportedVersionChange } from "../../components/jetstream/serverLines";

/**
 * The pilot's `/varz` version, asked over the system account (`$SYS.REQ.SERVER.PING.VARZ`): the
 * monitoring port is bound to private addresses and never reachable from where the runbook runs.
 */
export async function runningVersion(sysNc: NatsConnection, timeoutMs = 5000): Promise<string> {
  const reply = await sysNc
    .request("$SYS.REQ.SERVER.PING.VARZ", new Uint8Array(0), { timeout: timeoutMs })
    .catch((err: Error) => {
      throw new Error(
        `the pilot did not answer $SYS.REQ.SERVER.PING.VARZ (${err.message}): the version check needs the system-account user (systemPassword)`,
      );
    });
  const version = reply.json<{ data?: { version?: string } }>().data?.version;
  if (version === undefined) throw new Error("the pilot's /varz answer holds no version");
  return version;
}

export interface PilotVersionVerdict {
  readonly running: string;
  readonly pinned: string;
  /** What the operator must read, or undefined when the pilot runs the pinned release. */
  readonly warning?: string;
}

/**
 * The verdict of `running` against the staging stack's pin; throws when the change is outside the
 * support policy and `acceptPilotVersionChange` is not set.
 */
export function pilotVersionVerdict(
  running: string,
  staging: StackConfig,
  stack: string,
): PilotVersionVerdict {
  const pinned = staging.natsVersion;
  const notes: string[] = [];
  if (staging.pilotRunningVersion !== undefined && staging.pilotRunningVersion !== running) {
    notes.push(
      `${qualifiedKey("pilotRunningVersion")} says ${staging.pilotRunningVersion}, the pilot runs ${running}: pulumi config set ${qualifiedKey("pilotRunningVersion")} ${running} --stack ${stack}`,
    );
  }
  if (running !== pinned) {
    const reason = unsupportedVersionChange(running, pinned);
    const change = `the first \`pulumi up --stack ${stack}\` would change the pilot's nats-server from ${running} to ${pinned}`;
    if (reason !== undefined && !staging.acceptPilotVersionChange) {
      throw new Error(
        `${change}: ${reason}. Accept it with \`pulumi config set ${qualifiedKey("acceptPilotVersionChange")} true --stack ${stack}\` (the pilot's stream is backed up first), or pin ${running} on ${stack}`,
      );
    }
    notes.push(reason === undefined ? change : `${change} (accepted: ${reason})`);
  }
  return { running, pinned, ...(notes.length > 0 ? { warning: notes.join("; ") } : {}) };
}
