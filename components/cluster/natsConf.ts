/**
 * The one renderer of nats-server configuration. Pulumi writes its output to the VMs, the local
 * rehearsal starts nats-server with it, and the tests feed it to a real nats-server.
 *
 * The configuration is split in two files on purpose:
 * - `nats-server.conf` holds no secret. It can be logged, diffed, checksummed for drift detection
 *   and kept in Pulumi state in plaintext.
 * - `secrets.conf` (mode 0600) defines variables that the main file references (`$CLIENT_PASSWORD`
 *   …) and is pulled in with `include`. It reaches a host only through stdin.
 *
 * Route URLs carry their credentials in the secrets file too: nats-server 2.9 does not reuse the
 * cluster `authorization` block for the routes it solicits (a route URL without user info is
 * rejected with `authentication error - User ""`), so the whole route list is a secret variable.
 */
import { CLIENT_ACCOUNT } from "../jetstream/accounts";

/** Well-known NATS ports, the same on the VMs and in the local rehearsal's GA nodes. */
export const CLIENT_PORT = 4222;
export const CLUSTER_PORT = 6222;
export const MONITOR_PORT = 8222;

/** User names are not secret; the passwords are. */
export const CLIENT_USER = "akira";
export const SYSTEM_USER = "system";
export const ROUTE_USER = "route";
export const SECRETS_FILE = "secrets.conf";

/** `lame_duck_duration` may not be below 30 s on the 2.9 line (the server refuses to start). */
export const LAME_DUCK_DURATION = "30s";
export const LAME_DUCK_GRACE_PERIOD = "10s";

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface ClusterConf {
  /** Cluster name shared by every node, e.g. `akira-ga`. */
  readonly name: string;
  /** Address the route listener binds to: the node's private IP on Hetzner. */
  readonly host: string;
  /** Route port. Default {@link CLUSTER_PORT}. */
  readonly port?: number;
  /** Every node's route address, this node included (nats-server ignores the self-route). */
  readonly peers: readonly HostPort[];
}

export interface NatsConfInput {
  /** `server_name`, unique in the cluster; JetStream peers are known by it. */
  readonly serverName: string;
  /** Client listener address. `0.0.0.0` on a VM (the firewall limits who reaches it). */
  readonly clientHost: string;
  /** Client port. Default {@link CLIENT_PORT}. */
  readonly clientPort?: number;
  /**
   * Address advertised to clients through cluster gossip, so clients learn every node
   * (the rolling-upgrade procedure relies on it). Default: none, the server's own choice.
   */
  readonly clientAdvertise?: string;
  /** Monitoring listener. Never a public address: the monitoring port has no authentication. */
  readonly monitor: HostPort;
  /** JetStream storage directory. */
  readonly storeDir: string;
  /** JetStream file storage limit in bytes. */
  readonly maxFileStoreBytes: number;
  /** JetStream memory storage limit in bytes. Default 256 MiB. */
  readonly maxMemoryStoreBytes?: number;
  /** Cluster block; absent for the single-node pilot. */
  readonly cluster?: ClusterConf;
  /** Lame-duck duration. Default {@link LAME_DUCK_DURATION}. */
  readonly lameDuckDuration?: string;
  /** Lame-duck grace period. Default {@link LAME_DUCK_GRACE_PERIOD}. */
  readonly lameDuckGracePeriod?: string;
  /** Log file; absent logs to stderr (journald on the VMs). */
  readonly logFile?: string;
  /** TLS on the client port; absent: plain (the pilot by default). */
  readonly tls?: ClientTls;
}

/** TLS on the client port. The files are absolute paths: nats-server resolves relative ones from its working directory. */
export interface ClientTls {
  /** The node's certificate (PEM). */
  readonly certFile: string;
  /** Its private key (PEM, readable by the server's user only). */
  readonly keyFile: string;
  /**
   * Accept plain clients too, for a transition (the pilot's existing applications): nats-server's
   * `allow_non_tls`, which every supported line accepts. Default false: TLS or nothing.
   */
  readonly allowNonTls?: boolean;
}

export interface NatsSecretsInput {
  readonly clientPassword: string;
  readonly systemPassword: string;
  /** Route password; required exactly when the node is clustered. */
  readonly clusterPassword?: string;
  /** Route addresses to solicit (every peer); required exactly when the node is clustered. */
  readonly routes?: readonly HostPort[];
}

const DEFAULT_MAX_MEMORY_STORE = 256 * 1024 * 1024;

/** Renders `nats-server.conf`. Pure; holds no secret. */
export function renderNatsConf(input: NatsConfInput): string {
  const lines: string[] = [
    "# Rendered by akira-nats. Do not edit on the host: the next `pulumi up` overwrites it and",
    "# `akira-nats drift` reports the difference.",
    `include ./${SECRETS_FILE}`,
    "",
    `server_name: ${quote(input.serverName)}`,
    `host: ${quote(input.clientHost)}`,
    `port: ${input.clientPort ?? CLIENT_PORT}`,
  ];
  if (input.clientAdvertise !== undefined) lines.push(`client_advertise: ${quote(input.clientAdvertise)}`);
  lines.push(
    `http: ${quote(`${input.monitor.host}:${input.monitor.port}`)}`,
    `lame_duck_duration: ${quote(input.lameDuckDuration ?? LAME_DUCK_DURATION)}`,
    `lame_duck_grace_period: ${quote(input.lameDuckGracePeriod ?? LAME_DUCK_GRACE_PERIOD)}`,
  );
  if (input.logFile !== undefined) lines.push(`log_file: ${quote(input.logFile)}`);
  if (input.tls !== undefined) lines.push("", ...renderClientTls(input.tls));
  lines.push(
    "",
    "accounts {",
    `  ${CLIENT_ACCOUNT} {`,
    "    jetstream: enabled",
    `    users: [ { user: ${quote(CLIENT_USER)}, password: $CLIENT_PASSWORD } ]`,
    "  }",
    "  SYS {",
    `    users: [ { user: ${quote(SYSTEM_USER)}, password: $SYSTEM_PASSWORD } ]`,
    "  }",
    "}",
    "system_account: SYS",
    "",
    "jetstream {",
    `  store_dir: ${quote(input.storeDir)}`,
    `  max_file_store: ${input.maxFileStoreBytes}`,
    `  max_memory_store: ${input.maxMemoryStoreBytes ?? DEFAULT_MAX_MEMORY_STORE}`,
    "}",
  );
  if (input.cluster !== undefined) {
    const c = input.cluster;
    lines.push(
      "",
      "cluster {",
      `  name: ${quote(c.name)}`,
      `  host: ${quote(c.host)}`,
      `  port: ${c.port ?? CLUSTER_PORT}`,
      `  authorization { user: ${quote(ROUTE_USER)}, password: $CLUSTER_PASSWORD }`,
      `  # ${c.peers.map((p) => `${p.host}:${p.port}`).join(", ")} (credentials in ${SECRETS_FILE})`,
      "  routes: $CLUSTER_ROUTES",
      "}",
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The client `tls` block (and `allow_non_tls` for a transition), as lines of nats-server.conf. */
export function renderClientTls(tls: ClientTls): string[] {
  return [
    "# Clients only: routes run over the private network, which holds nothing but this cluster and",
    "# is not reachable from the internet; TLS there would add a second set of certificates to",
    "# rotate on every node at once, for traffic no one else can see.",
    "tls {",
    `  cert_file: ${quote(tls.certFile)}`,
    `  key_file: ${quote(tls.keyFile)}`,
    "  timeout: 2",
    "}",
    ...(tls.allowNonTls === true ? ["allow_non_tls: true"] : []),
  ];
}

/** Renders `secrets.conf`: the variables `nats-server.conf` references. Holds every secret. */
export function renderNatsSecrets(input: NatsSecretsInput): string {
  const clustered = input.clusterPassword !== undefined || input.routes !== undefined;
  if (clustered && (input.clusterPassword === undefined || input.routes === undefined)) {
    throw new Error("renderNatsSecrets: clusterPassword and routes go together (both or neither)");
  }
  const lines = [
    "# Rendered by akira-nats. Secret: mode 0600, owner nats.",
    `CLIENT_PASSWORD: ${quote(input.clientPassword)}`,
    `SYSTEM_PASSWORD: ${quote(input.systemPassword)}`,
  ];
  if (input.clusterPassword !== undefined && input.routes !== undefined) {
    const password = input.clusterPassword;
    lines.push(`CLUSTER_PASSWORD: ${quote(password)}`);
    const urls = input.routes.map(
      (r) => `nats-route://${ROUTE_USER}:${encodeURIComponent(password)}@${r.host}:${r.port}`,
    );
    lines.push(`CLUSTER_ROUTES: [ ${urls.map(quote).join(", ")} ]`);
  }
  return `${lines.join("\n")}\n`;
}

/** Double-quoted string in nats-server's config syntax. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
