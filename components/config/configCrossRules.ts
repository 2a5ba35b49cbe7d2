/**
 * Rules that relate keys to each other or to the mode. Each runs only when the keys it reads
 * passed their own rules, so one mistake is reported once, in the key where it was made.
 */

import { unsupportedVersionChange } from "../jetstream/serverLines";
import type { ConfigKey } from "./configKeys";
import { fixCommand, qualifiedKey } from "./configKeys";
import { MAX_NODES, type Mode, sshKeyBlob } from "./configRules";
import { vulnerablePinReason } from "./natsAdvisories";
import { SERVER_TYPES } from "./serverTypes";

/** The values that passed their own rules (unset keys hold their default, if any). */
export interface CheckedValues {
  readonly mode?: Mode;
  readonly nodeCount?: number;
  readonly streamReplicas?: number;
  readonly streamName?: string;
  readonly serverType?: string;
  readonly location?: string;
  readonly adminCidrs?: readonly string[];
  readonly clientCidrs?: readonly string[];
  readonly acceptAdminFromAnywhere?: boolean;
  readonly absorbPilot?: boolean;
  readonly acceptPilotAbsorbRisk?: boolean;
  readonly sshPublicKey?: string;
  readonly sshPrivateKey?: string;
  readonly clusterPassword?: string;
  readonly clientPassword?: string;
  readonly systemPassword?: string;
  readonly streamMaxAgeSeconds?: number;
  readonly streamDuplicateWindowSeconds?: number;
  readonly natsVersion?: string;
  readonly pilotRunningVersion?: string;
  readonly acceptPilotVersionChange?: boolean;
  readonly tlsCertificateDays?: number;
  readonly tlsRenewBeforeDays?: number;
}

export interface CrossIssue {
  readonly key: ConfigKey;
  readonly rule: string;
  readonly fix: string;
}

const WORLD = ["0.0.0.0/0", "::/0"];

export function crossRuleIssues(v: CheckedValues): CrossIssue[] {
  const issues: CrossIssue[] = [];
  const add = (key: ConfigKey, rule: string, fix = fixCommand(key)) => issues.push({ key, rule, fix });

  // A certificate issued already inside its renewal window would be re-issued, and every node
  // rolled, on every single `pulumi up`.
  const days = v.tlsCertificateDays ?? 365;
  const renew = v.tlsRenewBeforeDays ?? 30;
  if (days <= renew) {
    add(
      "tlsCertificateDays",
      `must be more than tlsRenewBeforeDays (${renew}), not ${days}: a certificate would be renewed, and every node rolled, on every pulumi up`,
      setTo("tlsCertificateDays", Math.max(365, renew * 4)),
    );
  }

  if (v.mode === "single") {
    if (v.nodeCount !== undefined && v.nodeCount !== 1) {
      add(
        "nodeCount",
        `must be 1 in single mode (the pilot is one server), not ${v.nodeCount}`,
        setTo("nodeCount", 1),
      );
    }
    if (v.streamReplicas !== undefined && v.streamReplicas !== 1) {
      add(
        "streamReplicas",
        `must be 1 in single mode (one server holds one replica), not ${v.streamReplicas}`,
        setTo("streamReplicas", 1),
      );
    }
    const pilotChange = pilotVersionChangeIssue(v);
    if (pilotChange !== undefined) add("natsVersion", pilotChange, setTo("acceptPilotVersionChange", true));
    if (v.absorbPilot === true) {
      add(
        "absorbPilot",
        "applies to mode cluster only: the staging pilot cannot absorb itself",
        setTo("absorbPilot", false),
      );
    }
  }

  if (v.mode === "cluster") {
    if (v.nodeCount !== undefined && (v.nodeCount < 3 || v.nodeCount % 2 === 0)) {
      add(
        "nodeCount",
        `must be odd and from 3 to ${MAX_NODES} in cluster mode, so the JetStream meta group keeps a majority with a node down, not ${v.nodeCount}`,
        setTo("nodeCount", 3),
      );
    }
    if (v.nodeCount !== undefined && v.streamReplicas !== undefined && v.streamReplicas > v.nodeCount) {
      add(
        "streamReplicas",
        `must be at most nodeCount (${v.nodeCount}): JetStream cannot place ${v.streamReplicas} replicas on ${v.nodeCount} servers (error 10005), not ${v.streamReplicas}`,
        setTo("streamReplicas", Math.min(v.nodeCount, 3)),
      );
    }
    if (v.adminCidrs !== undefined && v.adminCidrs.length === 0) {
      add("adminCidrs", "must list at least one CIDR in cluster mode: nothing could reach SSH on the nodes");
    }
    if (v.clientCidrs !== undefined && v.clientCidrs.length === 0) {
      add("clientCidrs", "must list at least one CIDR in cluster mode: no application could reach port 4222");
    }
    const type = v.serverType === undefined ? undefined : SERVER_TYPES[v.serverType];
    if (type !== undefined && type.arch !== "x86") {
      add(
        "serverType",
        `"${v.serverType}" is an ARM64 type, but natsSha256 pins the linux-amd64 release: choose an x86 type such as cx23`,
        setTo("serverType", "cx23"),
      );
    } else if (type !== undefined && v.location !== undefined && !type.locations.includes(v.location)) {
      add(
        "location",
        `"${v.location}" does not sell serverType ${v.serverType} (only ${type.locations.join(", ")} do): choose one of those, or another server type`,
        setTo("location", type.locations[0] ?? "fsn1"),
      );
    }
  }

  const open = (v.adminCidrs ?? []).findIndex((c) => WORLD.includes(c));
  if (open >= 0 && v.acceptAdminFromAnywhere !== true) {
    add(
      "adminCidrs",
      `entry ${open} "${v.adminCidrs?.[open]}" opens SSH to the whole internet: list your admin networks, or set acceptAdminFromAnywhere to true if you mean it`,
      fixCommand("adminCidrs", open),
    );
  }

  if (v.absorbPilot === true && v.mode === "cluster" && v.acceptPilotAbsorbRisk !== true) {
    add(
      "absorbPilot",
      `is true but acceptPilotAbsorbRisk is not. A standalone JetStream server restarted with a cluster block does not adopt its streams: the meta layer deletes them as orphans ("Detected orphaned stream …, will cleanup"), so ${v.streamName ?? "the stream"} on the pilot would be lost and can only come back from a backup, which the cutover takes first. Set acceptPilotAbsorbRisk to true to accept that, or absorbPilot to false to keep the pilot apart`,
      setTo("acceptPilotAbsorbRisk", true),
    );
  }

  if (v.mode === "cluster" && v.sshPublicKey !== undefined && v.sshPrivateKey !== undefined) {
    const publicBlob = sshKeyBlob(v.sshPublicKey, "public");
    const privateBlob = sshKeyBlob(v.sshPrivateKey, "private");
    if (Buffer.isBuffer(publicBlob) && Buffer.isBuffer(privateBlob) && !publicBlob.equals(privateBlob)) {
      add(
        "sshPublicKey",
        "is not the public half of sshPrivateKey: the nodes would refuse the remote commands' login",
      );
    }
  }

  const maxAge = v.streamMaxAgeSeconds;
  const window = v.streamDuplicateWindowSeconds;
  if (maxAge !== undefined && maxAge > 0 && window !== undefined && window > maxAge) {
    // JetStream refuses the stream update otherwise ("duplicates window can not be larger then max age").
    add(
      "streamDuplicateWindowSeconds",
      `must not exceed streamMaxAgeSeconds (${maxAge}): JetStream refuses a deduplication window longer than the messages live, not ${window}`,
      setTo("streamDuplicateWindowSeconds", maxAge),
    );
  }

  const passwords = (["clientPassword", "systemPassword", "clusterPassword"] as const).filter(
    (k) => v[k] !== undefined && (k !== "clusterPassword" || v.mode === "cluster"),
  );
  passwords.forEach((k, i) => {
    const same = passwords.slice(0, i).find((earlier) => v[earlier] === v[k]);
    if (same !== undefined) add(k, `must differ from ${same}: each user needs its own secret`);
  });

  return issues;
}

/**
 * The first `pulumi up` on staging installs natsVersion on the pilot: a downgrade beyond one patch
 * or a jump over a minor line needs the operator's explicit consent (the upgrade document's policy).
 */
function pilotVersionChangeIssue(v: CheckedValues): string | undefined {
  if (v.pilotRunningVersion === undefined || v.natsVersion === undefined) return undefined;
  if (v.acceptPilotVersionChange === true) return undefined;
  const reason = unsupportedVersionChange(v.pilotRunningVersion, v.natsVersion);
  if (reason === undefined) return undefined;
  const running = v.pilotRunningVersion;
  // Pinning what the pilot runs is the alternative only where the advisory gate lets that pin through.
  const keep =
    vulnerablePinReason(running) === undefined
      ? `, or pin ${running}: pulumi config set ${qualifiedKey("natsVersion")} ${running}`
      : ` (pinning ${running} instead is not possible: known advisories affect it, and natsVersion refuses it)`;
  return `would change the pilot's nats-server from ${running} (pilotRunningVersion) to ${v.natsVersion} on the first \`pulumi up\`: ${reason}. Back up the pilot's stream first (akira-nats stream backup), then accept the change with acceptPilotVersionChange${keep}`;
}

function setTo(key: ConfigKey, value: string | number | boolean): string {
  return `pulumi config set ${qualifiedKey(key)} ${value}`;
}
