/**
 * `akira:nats:PilotNode`: the staging pilot, a single nats-server with JetStream on the existing
 * host `pilotHost` (not created by this program, so no Hetzner resource and no Hetzner API call).
 * Its config comes from the same renderer as the GA nodes' (no cluster block) and reaches the host
 * through the same remote command and node script. `pulumi stack select staging && pulumi up` is
 * the rollback's last step.
 */
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { publicKeyFingerprint } from "./ed25519KeyPair";
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
  PILOT_MONITOR_HOST,
  pilotSecretsInput,
  renderPilotConf,
  VM_PORTS,
} from "./nodePlan";
import { confChecksum } from "./nodeScript";

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
  readonly confSha256: string;
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
    const conf = renderPilotConf({ serverName: pilotName, maxFileStoreBytes: args.maxFileStoreBytes });
    const config = nodeConfigCommand(
      `${name}-config`,
      {
        host: args.pilotHost,
        user: sshUser,
        privateKey: args.sshPrivateKey,
        hostKey: args.hostKey,
        commandText: renderNodeCommand(
          "prepare-host",
          {
            natsVersion: args.natsVersion,
            natsSha256: args.natsSha256,
            confText: conf,
            // The pilot's monitoring port is bound to loopback (it has no authentication).
            monitorUrl: monitorUrl(PILOT_MONITOR_HOST, VM_PORTS.monitor),
            releaseBaseUrl: args.releaseBaseUrl,
          },
          { sudo: sshUser !== "root" },
        ),
        secretsConf,
      },
      { parent: this },
    );
    this.name = pilotName;
    this.address = args.pilotHost;
    this.natsUrl = clientUrl(args.pilotHost, VM_PORTS.client);
    this.localUrl = clientUrl("127.0.0.1", VM_PORTS.client);
    this.confSha256 = confChecksum(conf);
    this.nodeCommands = [config];
    const sshHostKey = pulumi.output(publicKeyFingerprint(args.hostKey));
    this.deployedNodes = [
      {
        name: pilotName,
        address: args.pilotHost,
        sshHost: args.pilotHost,
        confSha256: this.confSha256,
        sshHostKey,
        sshHostKeyType: args.hostKey.trim().split(/\s+/)[0],
      },
    ];
    this.adminServers = [this.localUrl];
    this.adminTunnel = pulumi.output(adminTunnelHop(args.pilotHost, sshUser, args.hostKey));
    this.registerOutputs({ natsUrl: this.natsUrl, name: this.name, address: this.address });
  }
}
