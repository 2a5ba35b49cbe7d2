/**
 * The stack config the rehearsal's infrastructure reports for preflight: what `Pulumi.staging.yaml`
 * and `Pulumi.ga.yaml` plus their secrets would hold, with a throwaway SSH key pair, fake Hetzner
 * token and the local deployment's random passwords. It passes the same validation as real stacks,
 * so the rehearsal's preflight runs the real rules.
 */
import { createHash, randomBytes } from "node:crypto";
import { ed25519KeyPair } from "../../components/cluster/ed25519KeyPair";
import { PINNED_NATS_VERSION, unsupportedVersionChange } from "../../components/jetstream/serverLines";
import type { LocalSecrets } from "../local/localNats";
import type { RawStackConfig } from "../runbook/infra";

export const REHEARSAL_STREAM = "AKIRA_CDR";
export const REHEARSAL_SUBJECTS = ["akira.cdr.>"];

/**
 * `pilotVersion` is what the rehearsal's pilot runs: the staging config records it as
 * `pilotRunningVersion`, and accepts the change to the pin explicitly when it is outside the
 * support policy (a 2.9 pilot and a 2.15 pin), as an operator who rehearses that cutover must.
 */
export function rehearsalConfig(
  secrets: LocalSecrets,
  pilotHost: string,
  nodeCount: number,
  pilotVersion: string = PINNED_NATS_VERSION,
): { staging: RawStackConfig; ga: RawStackConfig } {
  const keys = ed25519KeyPair("akira-nats rehearsal");
  const common = {
    natsVersion: PINNED_NATS_VERSION,
    natsSha256: createHash("sha256").update("akira-nats rehearsal").digest("hex"),
    pilotHost,
    pilotName: "akira-cache-01-staging",
    clusterName: "akira-ga",
    serverType: "cx23",
    location: "fsn1",
    image: "ubuntu-24.04",
    privateNetworkCidr: "10.0.0.0/16",
    adminCidrs: JSON.stringify(["127.0.0.0/8"]),
    clientCidrs: JSON.stringify(["127.0.0.0/8"]),
    sshPublicKey: keys.public,
    sshPrivateKey: keys.private,
    absorbPilot: "false",
    acceptPilotAbsorbRisk: "false",
    streamName: REHEARSAL_STREAM,
    streamSubjects: JSON.stringify(REHEARSAL_SUBJECTS),
    clientPassword: secrets.clientPassword,
    systemPassword: secrets.systemPassword,
    "hcloud:token": randomBytes(48)
      .toString("base64")
      .replace(/[^A-Za-z0-9]/g, "")
      .padEnd(64, "x")
      .slice(0, 64),
  };
  return {
    staging: {
      ...common,
      mode: "single",
      nodeCount: "1",
      // The local pilot is reached without SSH; the key only has to be a valid one.
      pilotHostKey: ed25519KeyPair("akira-nats rehearsal pilot").public,
      streamReplicas: "1",
      pilotRunningVersion: pilotVersion,
      acceptPilotVersionChange: String(
        unsupportedVersionChange(pilotVersion, PINNED_NATS_VERSION) !== undefined,
      ),
    },
    ga: {
      ...common,
      mode: "cluster",
      nodeCount: String(nodeCount),
      streamReplicas: "3",
      clusterPassword: secrets.clusterPassword,
    },
  };
}
