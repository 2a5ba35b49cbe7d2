/**
 * `JetStreamStream`: a JetStream stream as a Pulumi resource whose replica count is a declared
 * property of the stack (the runbook's "--replicas 3" step and its rollback), changed safely by
 * components/jetstream/replicas.ts. The logic lives in jetStreamStreamProvider.ts.
 *
 * The provider is the portable shell of providerShell.ts: state holds two relative names, and
 * jetStreamStreamProvider.ts is loaded from the checkout the engine runs in; credentials are read there,
 * from `configure()` or the environment (docs/stream-resource.md).
 */
import * as pulumi from "@pulumi/pulumi";
import { portableProviderShell } from "../provider/providerShell";
import type { AdminTunnelInputs, StreamInputs, StreamOutputs } from "./jetStreamStreamProvider";

/**
 * The full type token. A dynamic resource's type is always `pulumi-nodejs:dynamic/<module>:<type>`
 * (`@pulumi/pulumi/dynamic` builds it), so `akira:jetstream:Stream` appears as its module path.
 */
export const STREAM_RESOURCE_TYPE = "pulumi-nodejs:dynamic/akira/jetstream:Stream";

/** Arguments of {@link JetStreamStream}. Only declared stream settings are managed and diffed. */
export interface JetStreamStreamArgs {
  /** The stream's name, e.g. `AKIRA_CDR`. Changing it needs `allowRecreate`. */
  readonly streamName: pulumi.Input<string>;
  /** Replica count, 1–5; changed in place with preflight, catch-up wait and canary. */
  readonly replicas: pulumi.Input<number>;
  /** Subjects, e.g. `["akira.cdr.>"]`. */
  readonly subjects: pulumi.Input<pulumi.Input<string>[]>;
  /** `file` or `memory`. Default: not managed (the server's value, `file` for a new stream). Changing it needs `allowRecreate`. */
  readonly storage?: pulumi.Input<"file" | "memory">;
  /** `limits`, `interest` or `workqueue`. Default: not managed. */
  readonly retention?: pulumi.Input<"limits" | "interest" | "workqueue">;
  /** Maximum message age in seconds, 0 = unlimited. Default: not managed. */
  readonly maxAgeSeconds?: pulumi.Input<number>;
  /** Maximum stream size in bytes, -1 = unlimited. Default: not managed. */
  readonly maxBytes?: pulumi.Input<number>;
  /** Maximum message count, -1 = unlimited. Default: not managed. */
  readonly maxMsgs?: pulumi.Input<number>;
  /** Dedupe window for `Nats-Msg-Id` in seconds. Default: not managed (server default 120). */
  readonly duplicateWindowSeconds?: pulumi.Input<number>;
  /** `old` or `new`. Default: not managed. */
  readonly discard?: pulumi.Input<"old" | "new">;
  /** NATS URLs without credentials (as reached from the tunnel's node when `adminTunnel` is set). */
  readonly servers: pulumi.Input<pulumi.Input<string>[]>;
  /** The servers' client-TLS authority (PEM, public): TLS is then required. Default: plain. */
  readonly tlsCa?: pulumi.Input<string>;
  /** The client user. Default `akira`; its password comes from `akira-nats:clientPassword` or `AKIRA_NATS_PASSWORD`. */
  readonly user?: pulumi.Input<string>;
  /** The system-account user for the peer preflight. Default `system` (password: `akira-nats:systemPassword` or `AKIRA_NATS_SYSTEM_PASSWORD`). */
  readonly systemUser?: pulumi.Input<string>;
  /** The account owning the stream (per-server copy check). Default `AKIRA`. */
  readonly account?: pulumi.Input<string>;
  /** Create the stream empty when missing. Default false: a missing stream must first be restored from the pilot backup. */
  readonly createIfMissing?: pulumi.Input<boolean>;
  /** On scale-down, the server whose copy remains (e.g. the pilot's). Default the current leader. */
  readonly keepPeerOnScaleDown?: pulumi.Input<string>;
  /** Allow a name or storage change, which recreates the stream and loses its data. Default false. */
  readonly allowRecreate?: pulumi.Input<boolean>;
  /** Let `pulumi destroy` delete the stream and its messages. Default false: the data is kept. */
  readonly allowDelete?: pulumi.Input<boolean>;
  /** How long a replica change may take until every replica is current. Default 600. */
  readonly timeoutSeconds?: pulumi.Input<number>;
  /** How long to try connecting. Default 10. */
  readonly connectTimeoutSeconds?: pulumi.Input<number>;
  /** Reach `servers` through an SSH tunnel via this node (key: `akira-nats:sshPrivateKey`). Default: connect directly. */
  readonly adminTunnel?: pulumi.Input<AdminTunnelInputs>;
}

let shell: pulumi.dynamic.ResourceProvider<StreamInputs, StreamOutputs> | undefined;
/** One shell per program: Pulumi caches the serialization per provider object. */
function sharedShell() {
  shell ??= portableProviderShell<StreamInputs, StreamOutputs>(
    "components/stream/jetStreamStreamProvider.ts",
    "createStreamProvider",
  );
  return shell;
}

export class JetStreamStream extends pulumi.dynamic.Resource {
  declare readonly streamName: pulumi.Output<string>;
  declare readonly replicas: pulumi.Output<number>;
  declare readonly subjects: pulumi.Output<string[]>;
  /** The server leading the stream. */
  declare readonly leader: pulumi.Output<string>;
  /** The servers holding a copy, leader first. */
  declare readonly peers: pulumi.Output<string[]>;
  declare readonly messages: pulumi.Output<number>;
  declare readonly bytes: pulumi.Output<number>;
  declare readonly lastSeq: pulumi.Output<number>;
  declare readonly replicasCurrent: pulumi.Output<boolean>;

  constructor(name: string, args: JetStreamStreamArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      sharedShell(),
      name,
      {
        ...args,
        leader: undefined,
        peers: undefined,
        messages: undefined,
        bytes: undefined,
        lastSeq: undefined,
        replicasCurrent: undefined,
      },
      opts,
      "akira/jetstream",
      "Stream",
    );
  }
}
