/**
 * What each node runs: its nats-server.conf (from the one renderer, components/cluster/natsConf.ts) and the
 * input of its secrets.conf. Pure, so the Pulumi components, the tests and a real nats-server all
 * see the very same text.
 */
import { VM_LAYOUT } from "./cloudInit";
import {
  CLIENT_PORT,
  CLUSTER_PORT,
  type ClientTls,
  type HostPort,
  MONITOR_PORT,
  type NatsSecretsInput,
  renderNatsConf,
} from "./natsConf";
import { tlsDirFor } from "./nodeScript";

/** A cluster node as the plan knows it before any server exists. */
export interface PlannedNode {
  /** `server_name` and the Hetzner server name. */
  readonly name: string;
  /** Fixed private IPv4 address in the cluster's network. */
  readonly privateIp: string;
}

/** Ports of a node. The VMs use the well-known ones; tests may override them. */
export interface NodePorts {
  readonly client: number;
  readonly cluster: number;
  readonly monitor: number;
}

export const VM_PORTS: NodePorts = { client: CLIENT_PORT, cluster: CLUSTER_PORT, monitor: MONITOR_PORT };

/** Secret values a node's secrets.conf is rendered from. */
export interface NodeSecrets {
  readonly clientPassword: string;
  readonly systemPassword: string;
  readonly clusterPassword?: string;
}

export interface ClusterConfOptions {
  readonly clusterName: string;
  /** Every node of the cluster, in order. */
  readonly nodes: readonly PlannedNode[];
  /** JetStream file storage limit (`maxFileStoreBytes(serverType)` in serverTypes.ts). */
  readonly maxFileStoreBytes: number;
  /** JetStream store directory. Default {@link VM_LAYOUT}.dataDir. */
  readonly storeDir?: string;
  /** Default {@link VM_PORTS}. */
  readonly ports?: NodePorts;
  /**
   * Bind the client listener to the node's private IP instead of 0.0.0.0. Default false (a VM
   * serves clients on every interface; the firewall decides who reaches them). For several nodes
   * on one machine (the loopback rehearsal), where 0.0.0.0:4222 can be bound only once.
   */
  readonly clientsOnPrivateIpOnly?: boolean;
  /** Client TLS of every node: node i's files. Default: plain. */
  readonly tls?: (index: number) => ClientTls;
}

/** Node names of a cluster: `<clusterName>-1` … `<clusterName>-<count>`. */
export function clusterNodeNames(clusterName: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${clusterName}-${i + 1}`);
}

/** Every node's route address (self included: nats-server ignores the self-route). */
export function clusterRoutes(nodes: readonly PlannedNode[], ports: NodePorts = VM_PORTS): HostPort[] {
  return nodes.map((n) => ({ host: n.privateIp, port: ports.cluster }));
}

/**
 * nats-server.conf of cluster node `index`: clients on 0.0.0.0 (the firewall decides who reaches
 * them) advertising the private address, so clients learn every node through gossip (the
 * rolling-upgrade procedure relies on it); routes and monitoring bound to the private IP only.
 */
export function renderClusterNodeConf(opts: ClusterConfOptions, index: number): string {
  const node = opts.nodes[index];
  if (node === undefined)
    throw new Error(`renderClusterNodeConf: no node ${index} among ${opts.nodes.length}`);
  const ports = opts.ports ?? VM_PORTS;
  return renderNatsConf({
    serverName: node.name,
    clientHost: opts.clientsOnPrivateIpOnly === true ? node.privateIp : "0.0.0.0",
    clientPort: ports.client,
    clientAdvertise: `${node.privateIp}:${ports.client}`,
    monitor: { host: node.privateIp, port: ports.monitor },
    storeDir: opts.storeDir ?? VM_LAYOUT.dataDir,
    maxFileStoreBytes: opts.maxFileStoreBytes,
    cluster: {
      name: opts.clusterName,
      host: node.privateIp,
      port: ports.cluster,
      peers: clusterRoutes(opts.nodes, ports),
    },
    ...(opts.tls === undefined ? {} : { tls: opts.tls(index) }),
  });
}

/** secrets.conf input of a cluster node (the same on every node). */
export function clusterSecretsInput(
  secrets: NodeSecrets,
  nodes: readonly PlannedNode[],
  ports: NodePorts = VM_PORTS,
): NatsSecretsInput {
  if (secrets.clusterPassword === undefined) {
    throw new Error(
      "clusterPassword is required in cluster mode: pulumi config set --secret akira-nats:clusterPassword <password>",
    );
  }
  return {
    clientPassword: secrets.clientPassword,
    systemPassword: secrets.systemPassword,
    clusterPassword: secrets.clusterPassword,
    routes: clusterRoutes(nodes, ports),
  };
}

export interface PilotConfOptions {
  readonly serverName: string;
  readonly maxFileStoreBytes: number;
  /** Default {@link VM_LAYOUT}.dataDir. */
  readonly storeDir?: string;
  /** Address the monitoring port binds to. Default 127.0.0.1: the pilot has no private network here. */
  readonly monitorHost?: string;
  /** Default {@link VM_PORTS} (the cluster port is unused). */
  readonly ports?: NodePorts;
  /** Client TLS (opt-in on the pilot, with plain clients still accepted). Default: plain. */
  readonly tls?: ClientTls;
}

/** The loopback address the pilot's monitoring port binds to (it has no authentication). */
export const PILOT_MONITOR_HOST = "127.0.0.1";

/** A node's client-TLS files on its host, for the certificate `certificate`. */
export function nodeTlsFiles(certificate: string, allowNonTls = false): ClientTls {
  const dir = tlsDirFor(VM_LAYOUT.confDir, certificate);
  return { certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem`, allowNonTls };
}

/** nats-server.conf of the single-node pilot: the same renderer, no cluster block. */
export function renderPilotConf(opts: PilotConfOptions): string {
  const ports = opts.ports ?? VM_PORTS;
  return renderNatsConf({
    serverName: opts.serverName,
    clientHost: "0.0.0.0",
    clientPort: ports.client,
    monitor: { host: opts.monitorHost ?? PILOT_MONITOR_HOST, port: ports.monitor },
    storeDir: opts.storeDir ?? VM_LAYOUT.dataDir,
    maxFileStoreBytes: opts.maxFileStoreBytes,
    ...(opts.tls === undefined ? {} : { tls: opts.tls }),
  });
}

/** secrets.conf input of the pilot: no cluster password, no routes. */
export function pilotSecretsInput(secrets: NodeSecrets): NatsSecretsInput {
  return { clientPassword: secrets.clientPassword, systemPassword: secrets.systemPassword };
}

/** Client URL without credentials, as applications get it in `natsUrl`. */
/** A client URL: `tls://` where the port requires TLS, `nats://` where it is plain. */
export function clientUrl(host: string, port: number = CLIENT_PORT, scheme: "nats" | "tls" = "nats"): string {
  return `${scheme}://${host}:${port}`;
}

/** Monitoring URL the node script polls for `/healthz`. */
export function monitorUrl(host: string, port: number = MONITOR_PORT): string {
  return `http://${host}:${port}`;
}
