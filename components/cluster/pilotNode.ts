/**
 * `akira:nats:PilotNode`: the staging pilot, a single nats-server with JetStream on the existing
 * host `pilotHost` (not created by this program, so no Hetzner resource and no Hetzner API call).
 * Its config comes from the same renderer as the GA nodes' (no cluster block) and reaches the host
 * through the same remote command and node script. `pulumi stack select staging && pulumi up` is
 * the rollback's last step.
 */

import { isIP } from "node:net";
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { TLS_AUTHORITY_DAYS, TlsAuthority, TlsNodeCertificate } from "../tls/tlsResources";
import { VM_LAYOUT } from "./cloudInit";
import { publicKeyFingerprint, publicKeyType } from "./ed25519KeyPair";
import { renderNatsSecrets } from "./natsConf";
import {
  type AdminTunnelHop,
  adminTunnelHop,
  type DeployedNode,
  type NatsDeployment,
  type NatsHostArgs,
} from "./natsDeployment";
import { nodeConfigCommand, renderNodeCommand } from "./nodeConfigCommand";
import {
  clientUrl,
  monitorUrl,
  nodeTlsFiles,
  PILOT_MONITOR_HOST,
  pilotSecretsInput,
  renderPilotConf,
  VM_PORTS,
} from "./nodePlan";
import { confChecksum, renderNodeStdin, tlsDirFor } from "./nodeScript";

export interface PilotNodeArgs extends NatsHostArgs {
  /** The pilot host's address: SSH and NATS clients reach it there. */
  readonly pilotHost: string;
  /** `server_name` of the pilot. Default `akira-cache-01-staging`. */
  readonly pilotName?: string;
  /**
   * SSH user on the pilot host. Default `root`. Another user runs the node script through
   * `sudo -n` and needs password-less sudo. Plain, not an Input: it decides the command text.
   */
  readonly sshUser?: string;
  /**
   * The pilot's SSH host key (`ecdsa-sha2-nistp256 AAAA…`, `ssh-ed25519 AAAA…`), from its known_hosts
   * line or console: the config command and the admin tunnel refuse a host that offers another.
   */
  readonly hostKey: string;
  /**
   * Client TLS on the pilot, off by default: its applications connect in plaintext today, and
   * switching them mid-migration would break them. On, the pilot serves TLS and still accepts
   * plain clients (`allow_non_tls`), so each application can move to `tls://` with the
   * `caCertificate` output on its own schedule. Default false.
   */
  readonly clientTls?: boolean;
  /** Days the pilot's certificate is valid / re-issued this many days before expiry. Default 365 / 30. */
  readonly tlsCertificateDays?: number;
  readonly tlsRenewBeforeDays?: number;
}

const DEFAULTS = { pilotName: "akira-cache-01-staging", sshUser: "root" } as const;

export class PilotNode extends pulumi.ComponentResource implements NatsDeployment {
  readonly name: string;
  /** The pilot's client URL, without credentials. */
  readonly natsUrl: string;
  readonly address: string;
  /** The client URL as seen on the pilot host itself (what the admin tunnel forwards to). */
  readonly localUrl: string;
  /** SHA-256 of the pilot's nats-server.conf, as the node script records it (drift check). */
  readonly confSha256: pulumi.Output<string>;
  /** The client-TLS authority, when `clientTls` is on. */
  readonly caCertificate: pulumi.Output<string> | undefined;
  /** The config command; the stream depends on it. */
  readonly nodeCommands: readonly command.remote.Command[];
  readonly deployedNodes: readonly DeployedNode[];
  readonly clusterName = undefined;
  readonly adminServers: readonly string[];
  readonly adminTunnel: pulumi.Output<AdminTunnelHop>;

  constructor(name: string, args: PilotNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("akira:nats:PilotNode", name, {}, opts);
    const pilotName = args.pilotName ?? DEFAULTS.pilotName;
    const sshUser = args.sshUser ?? DEFAULTS.sshUser;
    const secretsConf = pulumi.secret(
      pulumi
        .all([args.clientPassword, args.systemPassword])
        .apply(([client, system]) =>
          renderNatsSecrets(pilotSecretsInput({ clientPassword: client, systemPassword: system })),
        ),
    );
    const tls = args.clientTls === true ? this.pilotCertificate(name, pilotName, args) : undefined;
    const conf = pulumi.output(tls?.certificate.certificate).apply((cert) =>
      renderPilotConf({
        serverName: pilotName,
        maxFileStoreBytes: args.maxFileStoreBytes,
        ...(cert === undefined ? {} : { tls: nodeTlsFiles(cert, true) }),
      }),
    );
    const config = nodeConfigCommand(
      `${name}-config`,
      {
        host: args.pilotHost,
        user: sshUser,
        privateKey: args.sshPrivateKey,
        hostKey: args.hostKey,
        commandText: pulumi.all([conf, tls?.certificate.certificate]).apply(([confText, certificate]) =>
          renderNodeCommand(
            "prepare-host",
            {
              natsVersion: args.natsVersion,
              natsSha256: args.natsSha256,
              confText,
              // The pilot's monitoring port is bound to loopback (it has no authentication).
              monitorUrl: monitorUrl(PILOT_MONITOR_HOST, VM_PORTS.monitor),
              releaseBaseUrl: args.releaseBaseUrl,
              ...(certificate === undefined
                ? {}
                : { tls: { dir: tlsDirFor(VM_LAYOUT.confDir, certificate), certificate } }),
            },
            { sudo: sshUser !== "root" },
          ),
        ),
        secretsConf:
          tls === undefined
            ? secretsConf
            : pulumi.secret(
                pulumi
                  .all([secretsConf, tls.certificate.privateKey])
                  .apply(([secrets, key]) => renderNodeStdin(secrets, key)),
              ),
      },
      { parent: this },
    );
    this.name = pilotName;
    this.address = args.pilotHost;
    this.natsUrl = clientUrl(args.pilotHost, VM_PORTS.client);
    this.localUrl = clientUrl("127.0.0.1", VM_PORTS.client);
    this.confSha256 = conf.apply(confChecksum);
    this.caCertificate = tls?.authority.certificate;
    this.nodeCommands = [config];
    const sshHostKey = pulumi.output(publicKeyFingerprint(args.hostKey));
    this.deployedNodes = [
      {
        name: pilotName,
        address: args.pilotHost,
        sshHost: args.pilotHost,
        confSha256: this.confSha256,
        sshHostKey,
        sshHostKeyType: publicKeyType(args.hostKey),
      },
    ];
    this.adminServers = [this.localUrl];
    this.adminTunnel = pulumi.output(adminTunnelHop(args.pilotHost, sshUser, args.hostKey));
    this.registerOutputs({ natsUrl: this.natsUrl, name: this.name, address: this.address });
  }

  /** The pilot's authority and certificate (its address, 127.0.0.1 for the admin tunnel). */
  private pilotCertificate(name: string, pilotName: string, args: PilotNodeArgs) {
    const authority = new TlsAuthority(
      `${name}-tls-authority`,
      {
        commonName: `${pilotName} client TLS authority`,
        validityDays: TLS_AUTHORITY_DAYS,
        renewBeforeDays: args.tlsRenewBeforeDays ?? 30,
      },
      { parent: this },
    );
    const isIp = isIP(args.pilotHost) !== 0;
    const certificate = new TlsNodeCertificate(
      `${name}-tls`,
      {
        node: isIp ? pilotName : args.pilotHost,
        ips: isIp ? [args.pilotHost, "127.0.0.1"] : ["127.0.0.1"],
        authorityCertificate: authority.certificate,
        authorityPrivateKey: authority.privateKey,
        validityDays: args.tlsCertificateDays ?? 365,
        renewBeforeDays: args.tlsRenewBeforeDays ?? 30,
      },
      { parent: this },
    );
    return { authority, certificate };
  }
}
