/**
 * Valid raw stack configs (strings, as Pulumi hands them to the program) for the config tests.
 * The SSH key pair is generated per run, so no private key lives in the repository.
 */

import { ed25519KeyPair } from "../../components/cluster/ed25519KeyPair";
import { PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";

export const SHA = "3f9c1d7a0b2e4c6d8f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c1d3e";
export const TOKEN = "Hz7kQ2mX9pL4wV6nR8tY1bC3dF5gJ0sA2eU4iO6qW8rT1yM3uK5hN7jB9vG0cX2z";
export const PASSWORDS = {
  clusterPassword: "Route-9f3kQ2mZx7Lp4Wv",
  clientPassword: "Client-8d2hR5nYc1Ks6Tb",
  systemPassword: "System-3g7jP9wXe2Mq5Rz",
} as const;

export const KEY_PAIR = ed25519KeyPair("akira-nats-test");
export const OTHER_KEY_PAIR = ed25519KeyPair("other");
/** The staging fixtures' pilot host key: a public key line, as ssh-keyscan prints it after the host. */
export const PILOT_HOST_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINtRZ3KwwACFf5VT0mud4YI2SqV6ENz74Gt1mHpFhOWI";

export type Raw = Record<string, string | undefined>;

/** A complete, valid `ga` config. */
export function gaRaw(overrides: Raw = {}): Raw {
  return {
    mode: "cluster",
    natsVersion: PINNED_NATS_VERSION,
    natsSha256: SHA,
    pilotHost: "pilot.akira.internal",
    clusterName: "akira-ga",
    nodeCount: "3",
    serverType: "cx23",
    location: "fsn1",
    image: "ubuntu-24.04",
    privateNetworkCidr: "10.0.0.0/16",
    adminCidrs: '["100.64.10.0/24"]',
    clientCidrs: '["172.20.0.0/16","10.10.0.0/16"]',
    sshPublicKey: KEY_PAIR.public,
    absorbPilot: "false",
    acceptPilotAbsorbRisk: "false",
    streamName: "AKIRA_CDR",
    streamReplicas: "3",
    streamSubjects: '["akira.cdr.>"]',
    ...PASSWORDS,
    sshPrivateKey: KEY_PAIR.private,
    "hcloud:token": TOKEN,
    ...overrides,
  };
}

/** A complete, valid `staging` config (the keys a staging stack sets; the rest take defaults). */
export function stagingRaw(overrides: Raw = {}): Raw {
  return {
    mode: "single",
    natsVersion: PINNED_NATS_VERSION,
    natsSha256: SHA,
    pilotHost: "10.20.30.40",
    pilotHostKey: `10.20.30.40 ${PILOT_HOST_KEY}`,
    nodeCount: "1",
    streamReplicas: "1",
    clientPassword: PASSWORDS.clientPassword,
    systemPassword: PASSWORDS.systemPassword,
    sshPrivateKey: KEY_PAIR.private,
    ...overrides,
  };
}

export const GENERATE = `"$(openssl rand -base64 32 | tr -d '/+=')"`;
