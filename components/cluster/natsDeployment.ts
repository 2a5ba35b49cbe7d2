/**
 * What the program needs from either stack's NATS servers, whether the pilot or the cluster:
 * where applications connect, how the stream resource reaches JetStream, what to export.
 * Both PilotNode and NatsCluster provide it, so index.ts builds one of them and never asks which.
 */

import type * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import { publicKeyFingerprint, publicKeyType } from "./ed25519KeyPair";

export interface DeployedNode {
  readonly name: string;
  /** The address applications use (the private IP on GA, the host on staging). */
  readonly address: string;
  /** Where SSH reaches the node. */
  readonly sshHost: pulumi.Input<string>;
  /** SHA-256 of the nats-server.conf the node gets, as the node script records it (drift check). */
  readonly confSha256: pulumi.Input<string>;
  /** `SHA256:<base64>` of the node's ed25519 SSH host key as its config command reported it (drift pins it). */
  readonly sshHostKey: pulumi.Input<string | undefined>;
  /** The pinned host key's type (`ssh-ed25519`, `ecdsa-sha2-nistp256`): a client asks for it alone. */
  readonly sshHostKeyType: pulumi.Input<string | undefined>;
}

/** What every NATS host gets, whether a GA node or the pilot: the release, the login, the users. */
export interface NatsHostArgs {
  /** Private key the remote commands log in with. Secret. */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** Pinned nats-server release, `x.y.z`. Changing it rolls the hosts; it replaces no server. */
  readonly natsVersion: string;
  /** SHA-256 of the release tarball (from the release's SHA256SUMS). */
  readonly natsSha256: string;
  /** JetStream `max_file_store` in bytes (`maxFileStoreBytes(serverType)` in serverTypes.ts on GA). */
  readonly maxFileStoreBytes: number;
  /** Password of the `akira` client user. Secret. */
  readonly clientPassword: pulumi.Input<string>;
  /** Password of the system-account user. Secret. */
  readonly systemPassword: pulumi.Input<string>;
  /** nats-server release download base (tests and mirrors). Default: GitHub releases. */
  readonly releaseBaseUrl?: string;
}

export interface NatsDeployment {
  /** Every node's client URL, comma-separated, without credentials: the applications' NATS_URL. */
  readonly natsUrl: string;
  /** The client-TLS authority applications trust (public), where the clients' port runs TLS. */
  readonly caCertificate: pulumi.Output<string> | undefined;
  readonly deployedNodes: readonly DeployedNode[];
  /** Cluster name; undefined for the single-node pilot. */
  readonly clusterName: string | undefined;
  /** The per-node config commands, in roll order; the stream depends on all of them. */
  readonly nodeCommands: readonly command.remote.Command[];
  /** Client URLs as seen from the admin tunnel's far end. */
  readonly adminServers: readonly string[];
  /** The SSH hop of the admin tunnel: no NATS credential crosses the internet in clear. */
  readonly adminTunnel: pulumi.Input<AdminTunnelHop>;
}

/** Where the admin tunnel enters, and the host key it insists on. */
export interface AdminTunnelHop {
  readonly sshHost: string;
  readonly sshUser: string;
  /** `SHA256:<base64>` of the host key pinned in the stack (a GA node's generated key, `pilotHostKey`). */
  readonly hostKeySha256?: string;
  /** The pinned key's algorithm, asked for alone so the host offers that key (`ssh-ed25519`, …). */
  readonly hostKeyAlgorithm?: string;
}

/** The hop through `sshHost`, pinned to `hostKey` (an OpenSSH public key line) when one is known. */
export function adminTunnelHop(
  sshHost: string,
  sshUser: string,
  hostKey: string | undefined,
): AdminTunnelHop {
  if (hostKey === undefined) return { sshHost, sshUser };
  return {
    sshHost,
    sshUser,
    hostKeySha256: publicKeyFingerprint(hostKey),
    hostKeyAlgorithm: publicKeyType(hostKey),
  };
}
