/**
 * Every stack-config key, once: its type, default, secrecy, meaning and the value shown in the
 * fixing command. `Pulumi.yaml`'s `config:` section, `docs/configuration.md` and the validator
 * are all checked against this table by tests, so they cannot drift apart.
 */
import { PINNED_NATS_VERSION } from "../jetstream/serverLines";

/** The Pulumi project name, and so the config namespace (`akira-nats:<key>`). **Contract.** */
export const CONFIG_NAMESPACE = "akira-nats";

/** The type as Pulumi's project-config schema knows it. */
export type ConfigKeyType = "string" | "integer" | "boolean" | "array";

/** When the validator insists on a value (a key with a default is never missing). */
export type RequiredWhen = "always" | "cluster" | "single" | "never";

export interface ConfigKeySpec {
  readonly type: ConfigKeyType;
  /** Set with `pulumi config set --secret`; never echoed in a message. */
  readonly secret: boolean;
  /**
   * Applied when the stack sets no value, here and (as `default:`) in `Pulumi.yaml`. Absent: the
   * key has no default, and Pulumi itself refuses a stack that lacks it. `""` / `[]` mean "not
   * set" for keys required only in cluster mode: Pulumi requires every typed key without a
   * default in every stack, and staging has no use for them.
   */
  readonly default?: string | number | boolean | readonly string[];
  readonly requiredWhen: RequiredWhen;
  /** One line for `Pulumi.yaml` and the docs. */
  readonly description: string;
  /** The value shown in a fixing command (`pulumi config set akira-nats:<key> <example>`). */
  readonly example: string;
  /** Part of the stack-config contract users and checks rely on (keep the name; docs/configuration.md). */
  readonly contract: boolean;
  /** Declared in `Pulumi.yaml`. Provider keys (`hcloud:token`) cannot be: Pulumi forbids a type on them. */
  readonly inProjectFile: boolean;
}

const PASSWORD_EXAMPLE = `"$(openssl rand -base64 32 | tr -d '/+=')"`;

function key(spec: Omit<ConfigKeySpec, "secret" | "contract" | "inProjectFile"> & Partial<ConfigKeySpec>) {
  return { secret: false, contract: true, inProjectFile: true, ...spec } satisfies ConfigKeySpec;
}

export const CONFIG_KEYS = {
  mode: key({
    type: "string",
    requiredWhen: "always",
    description: "single (the staging pilot, one node, no cluster block) or cluster (the GA cluster).",
    example: "cluster",
  }),
  natsVersion: key({
    type: "string",
    requiredWhen: "always",
    description:
      "Pinned nats-server release (x.y.z) installed on the hosts; a release with a known advisory is refused.",
    example: PINNED_NATS_VERSION,
  }),
  natsSha256: key({
    type: "string",
    requiredWhen: "always",
    description: "SHA-256 of nats-server-v<natsVersion>-linux-amd64.tar.gz, from the release's SHA256SUMS.",
    example: "<64 hex digits from SHA256SUMS>",
  }),
  pilotHost: key({
    type: "string",
    requiredWhen: "always",
    description: "Address of the existing pilot host (SSH and NATS); the cutover backs up its stream.",
    example: "<pilot host address>",
  }),
  pilotName: key({
    type: "string",
    default: "akira-cache-01-staging",
    requiredWhen: "never",
    description: "Name of the pilot host; the pilot's nats server_name.",
    example: "akira-cache-01-staging",
  }),
  pilotSshUser: key({
    type: "string",
    default: "root",
    requiredWhen: "never",
    description: "SSH user on the pilot host (it exists already and may not use root).",
    example: "root",
    contract: false,
  }),
  pilotRunningVersion: key({
    type: "string",
    default: "",
    requiredWhen: "never",
    description:
      "The nats-server version the pilot host runs now (x.y.z; the cutover's preflight prints it); staging's preview compares natsVersion with it.",
    example: "<x.y.z from the pilot's /varz or `nats-server --version`>",
    contract: false,
  }),
  acceptPilotVersionChange: key({
    type: "boolean",
    default: false,
    requiredWhen: "never",
    description:
      "Must be true for staging to pin a natsVersion that downgrades the pilot's server or skips a minor line from pilotRunningVersion.",
    example: "true",
    contract: false,
  }),
  pilotHostKey: key({
    type: "string",
    default: "",
    requiredWhen: "single",
    description:
      "The pilot's SSH host key (its known_hosts line, or ssh-ed25519 AAAA…); every remote command and the admin tunnel refuse another.",
    example: "'<ssh-keyscan -t ecdsa,ed25519 pilot line, checked on its console>'",
    contract: false,
  }),
  pilotMaxFileStoreGb: key({
    type: "integer",
    default: 10,
    requiredWhen: "never",
    description: "JetStream file-store limit on the pilot host in GB (a shared host: its disk is not ours).",
    example: "10",
    contract: false,
  }),
  clusterName: key({
    type: "string",
    default: "akira-ga",
    requiredWhen: "never",
    description: "NATS cluster name, also the prefix of every Hetzner resource name.",
    example: "akira-ga",
  }),
  nodeCount: key({
    type: "integer",
    requiredWhen: "always",
    description: "Number of NATS servers: 1 in single mode; odd and at least 3 in cluster mode.",
    example: "3",
  }),
  serverType: key({
    type: "string",
    default: "cx23",
    requiredWhen: "never",
    description: "Hetzner server type of every cluster node (see components/config/serverTypes.ts).",
    example: "cx23",
  }),
  location: key({
    type: "string",
    default: "fsn1",
    requiredWhen: "never",
    description: "Hetzner location of every cluster node.",
    example: "fsn1",
  }),
  image: key({
    type: "string",
    default: "ubuntu-24.04",
    requiredWhen: "never",
    description: "Hetzner system image of every cluster node.",
    example: "ubuntu-24.04",
  }),
  privateNetworkCidr: key({
    type: "string",
    default: "10.0.0.0/16",
    requiredWhen: "never",
    description: "RFC 1918 range of the Hetzner private network the routes run over (room for a /24 subnet).",
    example: "10.0.0.0/16",
  }),
  adminCidrs: key({
    type: "array",
    default: [],
    requiredWhen: "cluster",
    description: "CIDRs that may reach SSH (22) and, through it, the admin path to JetStream.",
    example: "<admin CIDR, e.g. your office /32>",
  }),
  acceptAdminFromAnywhere: key({
    type: "boolean",
    default: false,
    requiredWhen: "never",
    description: "Must be true for adminCidrs to hold 0.0.0.0/0 or ::/0 (SSH open to the internet).",
    example: "true",
    contract: false,
  }),
  clientCidrs: key({
    type: "array",
    default: [],
    requiredWhen: "cluster",
    description: "CIDRs that may reach the client port 4222.",
    example: "<application CIDR>",
  }),
  sshPublicKey: key({
    type: "string",
    default: "",
    requiredWhen: "cluster",
    description: "OpenSSH public key put on the cluster nodes; the public half of sshPrivateKey.",
    example: `"$(cat ~/.ssh/akira_nats_ed25519.pub)"`,
  }),
  sshNextPublicKey: key({
    type: "string",
    default: "",
    requiredWhen: "never",
    description:
      "A second OpenSSH public key root accepts on the cluster nodes, while sshPublicKey is rotated; empty for none.",
    example: "'<new public key>'",
    contract: false,
  }),
  nodeHostKeys: key({
    type: "array",
    default: [],
    requiredWhen: "never",
    description:
      "Host keys of GA nodes created before the program generated them, as <node name> <public key>; pinned instead.",
    example: "'akira-ga-1 ssh-ed25519 AAAA…'",
    contract: false,
  }),
  acceptLiveChange: key({
    type: "array",
    default: [],
    requiredWhen: "never",
    description:
      "serverType or image changes done by hand, node by node, as key=value (serverType=cx33), which the shape guard lets through.",
    example: "serverType=cx33",
    contract: false,
  }),
  tlsCertificateDays: key({
    type: "integer",
    default: 365,
    requiredWhen: "never",
    description: "Days a node's client-TLS certificate is valid.",
    example: "365",
    contract: false,
  }),
  tlsRenewBeforeDays: key({
    type: "integer",
    default: 30,
    requiredWhen: "never",
    description:
      "A client-TLS certificate expiring within this many days is re-issued by pulumi up, rolling node by node.",
    example: "30",
    contract: false,
  }),
  pilotClientTls: key({
    type: "boolean",
    default: false,
    requiredWhen: "never",
    description:
      "Client TLS on the staging pilot, plain clients still accepted (allow_non_tls) during the transition.",
    example: "true",
    contract: false,
  }),
  absorbPilot: key({
    type: "boolean",
    default: false,
    requiredWhen: "never",
    description: "Use the pilot host as one of the cluster nodes (needs acceptPilotAbsorbRisk).",
    example: "false",
  }),
  acceptPilotAbsorbRisk: key({
    type: "boolean",
    default: false,
    requiredWhen: "never",
    description: "Must be true when absorbPilot is true: the pilot's streams come back only from the backup.",
    example: "true",
  }),
  streamName: key({
    type: "string",
    default: "AKIRA_CDR",
    requiredWhen: "never",
    description: "The JetStream stream holding the CDRs.",
    example: "AKIRA_CDR",
  }),
  streamReplicas: key({
    type: "integer",
    requiredWhen: "always",
    description: "Replicas of the stream: 1 in single mode; 1 to 5 and at most nodeCount in cluster mode.",
    example: "3",
  }),
  streamSubjects: key({
    type: "array",
    default: ["akira.cdr.>"],
    requiredWhen: "never",
    description: "Subjects the stream takes.",
    example: "'akira.cdr.>'",
    contract: false,
  }),
  // Optional stream settings. Empty (the default) leaves the setting to the server and out of the
  // stream resource's diff and the drift check; a value is applied by `pulumi up` and then watched.
  // Strings, not integers: Pulumi requires a typed key without a default on every stack, and ""
  // is the only "not declared" an integer key could not carry.
  streamStorage: key({
    type: "string",
    default: "",
    requiredWhen: "never",
    description: "Stream storage, file (the only kind a backup can take); empty leaves it to the server.",
    example: "file",
    contract: false,
  }),
  streamRetention: key({
    type: "string",
    default: "",
    requiredWhen: "never",
    description: "Stream retention: limits, interest or workqueue; empty leaves it to the server.",
    example: "limits",
    contract: false,
  }),
  streamDiscard: key({
    type: "string",
    default: "",
    requiredWhen: "never",
    description:
      "What a full stream discards: old (messages) or new (refuses publishes); empty leaves it to the server.",
    example: "old",
    contract: false,
  }),
  streamMaxAgeSeconds: key({
    type: "string",
    default: "",
    requiredWhen: "never",
    description: "Oldest message kept, in seconds, 0 = unlimited; empty leaves it to the server.",
    example: "34560000",
    contract: false,
  }),
  streamMaxBytes: key({
    type: "string",
    default: "",
    requiredWhen: "never",
    description: "Largest stream size in bytes, -1 = unlimited; empty leaves it to the server.",
    example: "-1",
    contract: false,
  }),
  streamMaxMsgs: key({
    type: "string",
    default: "",
    requiredWhen: "never",
    description: "Most messages kept, -1 = unlimited; empty leaves it to the server.",
    example: "-1",
    contract: false,
  }),
  streamDuplicateWindowSeconds: key({
    type: "string",
    default: "",
    requiredWhen: "never",
    description: "Nats-Msg-Id deduplication window in seconds; empty leaves it to the server (120).",
    example: "120",
    contract: false,
  }),
  clusterPassword: key({
    type: "string",
    secret: true,
    requiredWhen: "cluster",
    description:
      "Route authorization between the nodes (set it on staging too: Pulumi requires every secret key).",
    example: PASSWORD_EXAMPLE,
  }),
  clientPassword: key({
    type: "string",
    secret: true,
    requiredWhen: "always",
    description: "Password of the akira user the applications connect with.",
    example: PASSWORD_EXAMPLE,
  }),
  systemPassword: key({
    type: "string",
    secret: true,
    requiredWhen: "always",
    description: "Password of the system-account user (server list, health checks).",
    example: PASSWORD_EXAMPLE,
  }),
  sshPrivateKey: key({
    type: "string",
    secret: true,
    requiredWhen: "always",
    description: "Private key (no passphrase) the remote commands and the admin tunnel log in with.",
    example: "< ~/.ssh/akira_nats_ed25519",
  }),
  "hcloud:token": key({
    type: "string",
    secret: true,
    requiredWhen: "cluster",
    description: "Hetzner Cloud API token (read & write) of the project the cluster lives in.",
    example: "<64-character API token from the Hetzner Cloud Console>",
    inProjectFile: false,
  }),
} as const satisfies Record<string, ConfigKeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;

/** `akira-nats:nodeCount`; provider keys (`hcloud:token`) are already qualified. */
export function qualifiedKey(name: string): string {
  return name.includes(":") ? name : `${CONFIG_NAMESPACE}:${name}`;
}

/**
 * The command that sets `name`. Array entries are set one at a time with `--path`; a value read
 * from a file is piped in (`< path`), which Pulumi reads from stdin.
 */
export function fixCommand(name: string, index = 0): string {
  const spec = (CONFIG_KEYS as Record<string, ConfigKeySpec>)[name];
  if (spec === undefined) throw new Error(`unknown config key ${name}`);
  const flag = spec.secret ? " --secret" : "";
  if (spec.type === "array") {
    return `pulumi config set${flag} --path '${qualifiedKey(name)}[${index}]' ${spec.example}`;
  }
  return `pulumi config set${flag} ${qualifiedKey(name)} ${spec.example}`;
}
