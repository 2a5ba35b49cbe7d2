/**
 * What the cutover and rollback need from the infrastructure, and from the operator's side. Two
 * implementations: pulumiInfra.ts (the real stacks, through the Pulumi Automation API) and
 * localInfra.ts (local nats-server processes, for `akira-nats rehearse`). The step code is the same
 * for both; only this seam differs.
 */
import type { ConnectionTarget } from "../../components/jetstream/connection";

/** The stack's configuration as Pulumi stores it, keys without the `akira-nats:` namespace. */
export type RawStackConfig = Readonly<Record<string, string | undefined>>;

/** How to reach a stack's NATS: the `natsUrl` output plus the users from its (secret) config. */
export interface StackEndpoint {
  /** Client URLs, comma-separated, without credentials (the `natsUrl` stack output). */
  readonly natsUrl: string;
  /** The client-TLS authority to trust (the `caCertificate` stack output), where the stack has one. */
  readonly caCertificate?: string;
  /** The `akira` client user. */
  readonly client: ConnectionTarget;
  /** The system-account user (`server list`). */
  readonly system: ConnectionTarget;
}

export interface UpOptions {
  /** Include the stack's stream resource. Default true. */
  readonly stream?: boolean;
  /** The engine's output, line by line. */
  readonly onOutput?: (line: string) => void;
}

export interface Infra {
  readonly kind: "pulumi" | "local";
  /** The stack's raw configuration (secrets decrypted, held in memory only) for `loadStackConfig`. */
  readConfig(stack: string): Promise<RawStackConfig>;
  /**
   * `pulumi up` on the stack; resolves with its endpoint once the engine reports success. With
   * `stream: false` the stack's stream resource is left out (`--exclude` its URN): the first `up`
   * of the cluster, before the stream is restored, since that resource never creates AKIRA_CDR
   * (`createIfMissing: false`). With `stream: true` (the default) the resource adopts the existing
   * stream and brings it to the stack's `streamReplicas` (changeReplicas: preflight, update, wait
   * current, canary).
   */
  up(stack: string, opts?: UpOptions): Promise<StackEndpoint>;
  /** The endpoint of a stack as deployed now (outputs of the last `up`), without changing anything. */
  endpoint(stack: string): Promise<StackEndpoint>;
  /** Stops the stack's NATS nodes, keeping their disks (rollback step 1). */
  stopNodes(stack: string): Promise<void>;
}

/**
 * The operator's side: what applications do. The tool calls these at the right moments; what they
 * do is the operator's business (a deployment rollout, a feature flag, a config push).
 */
export interface OperatorHooks {
  /** Stop publishing CDRs and wait until nothing is in flight. */
  pausePublishers(): Promise<void>;
  /** Publish again (against whatever `pointApplicationsAt` set last). */
  resumePublishers(): Promise<void>;
  /**
   * Applications' NATS_URL becomes `natsUrl` (comma-separated URLs, no credentials); with
   * `caCertificate` (PEM), they trust it for the `tls://` URLs.
   */
  pointApplicationsAt(natsUrl: string, caCertificate?: string): Promise<void>;
  /** Names of hooks that are not configured; preflight refuses to start while any is missing. */
  missing(): readonly string[];
}
