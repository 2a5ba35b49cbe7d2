/**
 * `akira:nats:NatsCluster`: the GA cluster on Hetzner Cloud. A private network and subnet, a
 * `spread` placement group, a firewall, an SSH key, `nodeCount` servers with fixed private IPs,
 * and per node a remote command that installs the pinned nats-server and writes its config. The
 * commands are chained (each depends on the previous node's), so a config or version change rolls
 * the nodes one at a time and a failing node stops the roll before the next one is touched.
 *
 * A version or config change changes only the commands' text: the servers' inputs (user data
 * included) do not depend on either, so no server is ever replaced by a roll.
 */

import type * as command from "@pulumi/command";
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import { TLS_AUTHORITY_DAYS, TlsAuthority, TlsNodeCertificate } from "../tls/tlsResources";
import { renderCloudInit, VM_LAYOUT } from "./cloudInit";
import { publicKeyIdentity } from "./clusterShape";
import { publicKeyFingerprint, publicKeyType } from "./ed25519KeyPair";
import { firewallRules } from "./firewall";
import { renderNatsSecrets } from "./natsConf";
import {
  type AdminTunnelHop,
  adminTunnelHop,
  type DeployedNode,
  type NatsDeployment,
  type NatsHostArgs,
} from "./natsDeployment";
import { networkZoneFor, nodePrivateIps, subnetCidr } from "./network";
import { nodeConfigCommand, renderNodeCommand } from "./nodeConfigCommand";
import { SshHostKey } from "./nodeHostKey";
import {
  clientUrl,
  clusterNodeNames,
  clusterSecretsInput,
  monitorUrl,
  nodeTlsFiles,
  type PlannedNode,
  renderClusterNodeConf,
  VM_PORTS,
} from "./nodePlan";
import { confChecksum, renderNodeStdin, tlsDirFor } from "./nodeScript";
import { ClusterShapeGuard } from "./shapeGuard";

export interface NatsClusterArgs extends NatsHostArgs {
  /**
   * Cluster name (`cluster.name` in nats-server.conf) and prefix of every node name
   * (`<clusterName>-1` …). Plain, not an Input: node names and routes are rendered from it.
   */
  readonly clusterName: string;
  /** Number of servers; odd, at least 3 (validated with the stack config). Default 3. */
  readonly nodeCount?: number;
  /** Hetzner server type. Default `cx23`. */
  readonly serverType?: string;
  /** Hetzner location; determines the network zone of the subnet. Default `fsn1`. */
  readonly location?: string;
  /** Server image. Default `ubuntu-24.04`. */
  readonly image?: string;
  /**
   * The private network. The nodes live in its first /24 (the whole range when it is a /24 or
   * smaller); node i gets the address at offset 11 + i, e.g. 10.0.0.11, .12, .13 in 10.0.0.0/16.
   */
  readonly privateNetworkCidr: string;
  /** Who may reach SSH (22) on the public interface. */
  readonly adminCidrs: pulumi.Input<readonly string[]>;
  /** Who may reach the NATS client port (4222) on the public interface. */
  readonly clientCidrs: pulumi.Input<readonly string[]>;
  /** Public key root accepts on every server; the config commands log in with its private half. */
  readonly sshPublicKey: string;
  /** A second key root accepts, while `sshPublicKey` is rotated (clusterShape.ts). Default none. */
  readonly sshNextPublicKey?: string;
  /**
   * Host keys of nodes created before the program generated them, as `<node name> <public key>`
   * (`akira-ga-1 ssh-ed25519 AAAA…`): pinned instead of a generated key. Default none.
   */
  readonly nodeHostKeys?: readonly string[];
  /** Changes of `serverType`/`image` done by hand node by node (`serverType=cx33`). Default none. */
  readonly acceptedChanges?: readonly string[];
  /** Route password between the nodes. Secret. */
  readonly clusterPassword: pulumi.Input<string>;
  /**
   * Use the pilot host as one of the nodes. Not supported by this component: `true` is refused.
   * The pilot's streams would be deleted as orphans when it joins a cluster, and the pilot must stay
   * untouched as the rollback target; the GA stream comes from the pilot's backup instead.
   * Default false.
   */
  readonly absorbPilot?: boolean;
  /** Days a node's client-TLS certificate is valid. Default 365. */
  readonly tlsCertificateDays?: number;
  /** A certificate expiring within this many days is re-issued on `pulumi up`. Default 30. */
  readonly tlsRenewBeforeDays?: number;
  /** Extra labels on every Hetzner resource. Default none (the component adds its own). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A node as the component exposes it. */
export interface ClusterNode {
  readonly name: string;
  readonly privateIp: string;
  /** Public IPv4 (SSH from `adminCidrs`, clients from `clientCidrs`). */
  readonly publicIp: pulumi.Output<string>;
  /** Client URL on the private network, without credentials. */
  readonly url: string;
  /** SHA-256 of the nats-server.conf this node gets, as the node script records it (drift check). */
  readonly confSha256: pulumi.Output<string>;
}

/** Server inputs fixed when the server is created: `ignoreChanges` on every node. */
export const SERVER_FIXED_AT_CREATION = ["userData", "serverType", "image", "sshKeys"] as const;

const DEFAULTS = {
  nodeCount: 3,
  serverType: "cx23",
  location: "fsn1",
  image: "ubuntu-24.04",
  absorbPilot: false,
  tlsCertificateDays: 365,
  tlsRenewBeforeDays: 30,
} as const;

export class NatsCluster extends pulumi.ComponentResource implements NatsDeployment {
  readonly nodes: readonly ClusterNode[];
  /** Every node's private client URL (`tls://`), comma-separated, without credentials. */
  readonly natsUrl: string;
  /** The authority applications trust for client TLS (public). */
  readonly caCertificate: pulumi.Output<string>;
  readonly clusterName: string;
  /** The per-node config commands, in roll order; the stream depends on all of them. */
  readonly nodeCommands: readonly command.remote.Command[];
  readonly servers: readonly hcloud.Server[];
  readonly network: hcloud.Network;
  readonly firewall: hcloud.Firewall;
  readonly placementGroup: hcloud.PlacementGroup;
  readonly deployedNodes: readonly DeployedNode[];
  readonly adminServers: readonly string[];
  readonly adminTunnel: pulumi.Output<AdminTunnelHop>;

  constructor(name: string, args: NatsClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("akira:nats:NatsCluster", name, {}, opts);
    const a = { ...DEFAULTS, ...definedOnly(args) };
    if (a.absorbPilot) {
      throw new pulumi.ResourceError(
        "absorbPilot is not supported by NatsCluster: a standalone JetStream server that joins a cluster deletes its streams as orphans, and the pilot stays the rollback target. Set `pulumi config set akira-nats:absorbPilot false`; the GA stream is restored from the pilot's backup.",
        this,
      );
    }
    const labels = { ...a.labels, app: "akira-nats", cluster: a.clusterName };
    const authorizedKeys = [a.sshPublicKey, ...(a.sshNextPublicKey ? [a.sshNextPublicKey] : [])];
    // Registered first, and every Hetzner resource depends on it: a change it refuses (in its
    // check, at preview and at up) stops the run before any server is touched. Its name does not
    // hold clusterName, so a rename is compared with the applied name instead of starting afresh.
    const guard = new ClusterShapeGuard(
      `${name}-shape`,
      {
        clusterName: a.clusterName,
        nodeCount: a.nodeCount,
        serverType: a.serverType,
        location: a.location,
        image: a.image,
        privateNetworkCidr: a.privateNetworkCidr,
        sshPublicKey: publicKeyIdentity(a.sshPublicKey),
        authorizedKeys: authorizedKeys.map(publicKeyIdentity),
        acceptedChanges: [...(a.acceptedChanges ?? [])],
      },
      { parent: this },
    );
    // The network, the subnet and the servers hold the cluster: `protect` makes the engine refuse,
    // at preview, any plan that would delete or replace them, whatever the cause (a key the guard
    // does not know, a provider upgrade that starts forcing a replacement). Taking a cluster down
    // on purpose is `pulumi state unprotect` first (docs/stacks.md).
    const held = { parent: this, dependsOn: [guard], protect: true };
    const planned: PlannedNode[] = clusterNodeNames(a.clusterName, a.nodeCount).map((nodeName, i) => ({
      name: nodeName,
      privateIp: nodePrivateIps(a.privateNetworkCidr, a.nodeCount)[i] as string,
    }));

    this.network = new hcloud.Network(
      `${name}-network`,
      { name: `${a.clusterName}-private`, ipRange: a.privateNetworkCidr, labels },
      held,
    );
    const subnet = new hcloud.NetworkSubnet(
      `${name}-subnet`,
      {
        networkId: toNumber(this.network.id),
        type: "cloud",
        networkZone: networkZoneFor(a.location),
        ipRange: subnetCidr(a.privateNetworkCidr),
      },
      held,
    );
    // `spread` (the only type) puts every server on a different physical host.
    this.placementGroup = new hcloud.PlacementGroup(
      `${name}-spread`,
      { name: `${a.clusterName}-spread`, type: "spread", labels },
      { parent: this, dependsOn: [guard] },
    );
    this.firewall = new hcloud.Firewall(
      `${name}-firewall`,
      {
        name: `${a.clusterName}-nats`,
        labels,
        rules: pulumi
          .all([a.adminCidrs, a.clientCidrs])
          .apply(([admin, client]) =>
            firewallRules(admin, client).map((r) => ({ ...r, sourceIps: [...r.sourceIps] })),
          ),
      },
      { parent: this, dependsOn: [guard] },
    );
    const sshKey = new hcloud.SshKey(
      `${name}-ssh-key`,
      { name: `${a.clusterName}-admin`, publicKey: a.sshPublicKey, labels },
      // Used only when a server is created (servers ignore later changes of `sshKeys`): a rotated
      // key replaces this object alone, and Hetzner's unique key names need the old one gone first.
      { parent: this, dependsOn: [guard], deleteBeforeReplace: true },
    );

    // Each node's SSH host key: generated and delivered through cloud-init, or, for a node created
    // before that, the key the stack records for it. Every remote command pins it.
    const hostKeys = planned.map((node) => {
      const known = knownHostKey(a.nodeHostKeys ?? [], node.name);
      if (known !== undefined) return { publicKey: pulumi.output(known), userData: renderCloudInit() };
      const key = new SshHostKey(`${name}-${node.name}-host-key`, { node: node.name }, { parent: this });
      return {
        publicKey: key.publicKey,
        // Holds the host's private key: a secret in state, never shown.
        userData: pulumi.secret(
          pulumi
            .all([key.privateKey, key.publicKey])
            .apply(([privateKey, publicKey]) => renderCloudInit({ privateKey, publicKey })),
        ),
      };
    });
    const servers = planned.map(
      (node, i) =>
        new hcloud.Server(
          `${name}-${node.name}`,
          {
            name: node.name,
            serverType: a.serverType,
            location: a.location,
            image: a.image,
            labels: { ...labels, node: node.name },
            placementGroupId: toNumber(this.placementGroup.id),
            // Attached at creation, so no server ever runs without its firewall.
            firewallIds: [toNumber(this.firewall.id)],
            sshKeys: [sshKey.id],
            // The `networks` block (rather than a separate ServerNetwork) attaches the private
            // interface at creation: it is up at first boot, before nats-server binds to it, and the
            // address is part of the server's definition. `aliasIps: []` avoids a detach/attach on
            // every update (terraform-provider-hcloud#650).
            networks: [{ networkId: toNumber(this.network.id), ip: node.privateIp, aliasIps: [] }],
            // IPv4 is needed: SSH and the admin tunnel come from adminCidrs, and the nats-server
            // release is downloaded from GitHub, which has no IPv6. IPv6 would only add surface.
            publicNets: [{ ipv4Enabled: true, ipv6Enabled: false }],
            userData: hostKeys[i]?.userData as pulumi.Input<string>,
            deleteProtection: true,
            rebuildProtection: true,
          },
          // The subnet must exist before a server can take an address in it. Changes the program
          // never makes to a running server, so that an edit applies to servers created later:
          // - userData: read at first boot only; a change would replace the server;
          // - serverType: the provider powers the server off to change it, every node at once;
          //   a resize is done node by node by hand and accepted by the guard;
          // - image: a change rebuilds (wipes) the server;
          // - sshKeys: a change replaces the server; root's keys are the config command's job.
          { ...held, dependsOn: [guard, subnet], ignoreChanges: [...SERVER_FIXED_AT_CREATION] },
        ),
    );

    const confOptions = {
      clusterName: a.clusterName,
      nodes: planned,
      maxFileStoreBytes: a.maxFileStoreBytes,
    };
    const secretsConf = pulumi.secret(
      pulumi
        .all([a.clientPassword, a.systemPassword, a.clusterPassword])
        .apply(([client, system, route]) =>
          renderNatsSecrets(
            clusterSecretsInput(
              { clientPassword: client, systemPassword: system, clusterPassword: route },
              planned,
            ),
          ),
        ),
    );
    // Client TLS: one authority, one certificate per node naming every address a client may use
    // (the private IP, the public one, and 127.0.0.1 for the admin tunnel's forward).
    const authority = new TlsAuthority(
      `${name}-tls-authority`,
      {
        commonName: `${a.clusterName} client TLS authority`,
        validityDays: TLS_AUTHORITY_DAYS,
        renewBeforeDays: a.tlsRenewBeforeDays,
      },
      { parent: this, dependsOn: [guard] },
    );
    const certificates = planned.map(
      (node, i) =>
        new TlsNodeCertificate(
          `${name}-${node.name}-tls`,
          {
            node: node.name,
            ips: [node.privateIp, (servers[i] as hcloud.Server).ipv4Address, "127.0.0.1"],
            authorityCertificate: authority.certificate,
            authorityPrivateKey: authority.privateKey,
            validityDays: a.tlsCertificateDays,
            renewBeforeDays: a.tlsRenewBeforeDays,
          },
          { parent: this },
        ),
    );
    const confs = planned.map((_, i) =>
      (certificates[i] as TlsNodeCertificate).certificate.apply((cert) =>
        renderClusterNodeConf({ ...confOptions, tls: () => nodeTlsFiles(cert) }, i),
      ),
    );
    const commands: command.remote.Command[] = [];
    planned.forEach((node, i) => {
      const previous = commands[i - 1];
      commands.push(
        nodeConfigCommand(
          `${name}-${node.name}-config`,
          {
            host: servers[i]?.ipv4Address as pulumi.Output<string>,
            privateKey: a.sshPrivateKey,
            hostKey: hostKeys[i]?.publicKey as pulumi.Output<string>,
            // The certificate is public and goes in the text (a new one rolls the node); its key
            // follows secrets.conf on stdin, a secret.
            commandText: pulumi
              .all([confs[i] as pulumi.Output<string>, (certificates[i] as TlsNodeCertificate).certificate])
              .apply(([confText, certificate]) =>
                renderNodeCommand(
                  "wait-for-cloud-init",
                  {
                    natsVersion: a.natsVersion,
                    natsSha256: a.natsSha256,
                    confText,
                    monitorUrl: monitorUrl(node.privateIp, VM_PORTS.monitor),
                    releaseBaseUrl: a.releaseBaseUrl,
                    tls: { dir: tlsDirFor(VM_LAYOUT.confDir, certificate), certificate },
                  },
                  { authorizedKeys },
                ),
              ),
            secretsConf: pulumi.secret(
              pulumi
                .all([secretsConf, (certificates[i] as TlsNodeCertificate).privateKey])
                .apply(([secrets, key]) => renderNodeStdin(secrets, key)),
            ),
          },
          // One node at a time: the previous node's command must have succeeded (healthy) first.
          { parent: this, dependsOn: previous === undefined ? [servers[i] as hcloud.Server] : [previous] },
        ),
      );
    });

    this.servers = servers;
    this.nodeCommands = commands;
    this.clusterName = a.clusterName;
    this.nodes = planned.map((node, i) => ({
      name: node.name,
      privateIp: node.privateIp,
      publicIp: (servers[i] as hcloud.Server).ipv4Address,
      url: clientUrl(node.privateIp, VM_PORTS.client, "tls"),
      confSha256: (confs[i] as pulumi.Output<string>).apply(confChecksum),
    }));
    this.natsUrl = this.nodes.map((n) => n.url).join(",");
    this.caCertificate = authority.certificate;
    this.deployedNodes = this.nodes.map((n, i) => ({
      name: n.name,
      address: n.privateIp,
      sshHost: n.publicIp,
      confSha256: n.confSha256,
      sshHostKey: pulumi
        .output(hostKeys[i]?.publicKey)
        .apply((k) => (k === undefined ? undefined : publicKeyFingerprint(k))),
      sshHostKeyType: pulumi
        .output(hostKeys[i]?.publicKey)
        .apply((k) => (k === undefined ? undefined : publicKeyType(k))),
    }));
    // The tunnel enters through the first node and reaches every node on the private network.
    this.adminServers = this.nodes.map((n) => n.url);
    this.adminTunnel = pulumi
      .all([(servers[0] as hcloud.Server).ipv4Address, hostKeys[0]?.publicKey])
      .apply(([ip, hostKey]) => adminTunnelHop(ip, "root", hostKey));
    this.registerOutputs({
      natsUrl: this.natsUrl,
      nodes: this.nodes.map((n) => ({ name: n.name, privateIp: n.privateIp, publicIp: n.publicIp })),
    });
  }
}

/** The public key `entries` (`<node> <type> <base64> …`) record for `node`, as `<type> <base64>`. */
export function knownHostKey(entries: readonly string[], node: string): string | undefined {
  const entry = entries.map((e) => e.trim().split(/\s+/)).find((f) => f[0] === node);
  return entry === undefined ? undefined : `${entry[1]} ${entry[2]}`;
}

/** Hetzner ids are strings in Pulumi; these arguments want numbers. */
function toNumber(id: pulumi.Input<string>): pulumi.Output<number> {
  return pulumi.output(id).apply((s) => Number.parseInt(s, 10));
}

/** Drops `undefined` members so `{ ...DEFAULTS, ...args }` keeps the defaults. */
function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
