/**
 * The infrastructure of the rehearsal: local nats-server processes from scripts/local/localNats.ts
 * stand in for the stacks. `up` of the GA stack starts the three GA nodes (and waits until they are
 * healthy), `up` of the staging stack restarts the pilot as a single node, `stopNodes` stops them;
 * with the stream resource included, `up` does to AKIRA_CDR what the stack's resource does.
 * The raw config returned for preflight is what the stacks' Pulumi config would hold, with the
 * rehearsal's throwaway passwords.
 */

import { CLIENT_USER, SYSTEM_USER } from "../../components/cluster/natsConf";
import { loadStackConfig } from "../../components/config/config";
import { connectNats } from "../../components/jetstream/connection";
import { changeReplicas } from "../../components/jetstream/replicas";
import { findStream } from "../../components/jetstream/streams";
import type { LocalDeployment } from "../local/localNats";
import type { Infra, RawStackConfig, StackEndpoint, UpOptions } from "./infra";

export interface LocalInfraOptions {
  /** The pilot, already started (it runs before the cutover, as in production). */
  readonly pilot: LocalDeployment;
  /** The GA nodes, configured but not necessarily started: `up("ga")` starts them. */
  readonly ga: LocalDeployment;
  /** Stack names. Default `staging` and `ga`. */
  readonly stacks?: { readonly pilot: string; readonly ga: string };
  /** The stacks' config (as `pulumi config` would return it), keyed by stack name. */
  readonly config: Readonly<Record<string, RawStackConfig>>;
  /** How long `up` waits for health. Default 60000 ms. */
  readonly healthTimeoutMs?: number;
}

export function localEndpoint(d: LocalDeployment): StackEndpoint {
  const tls = d.caCertificate === undefined ? {} : { tls: { ca: d.caCertificate } };
  return {
    natsUrl: d.servers,
    ...(d.caCertificate === undefined ? {} : { caCertificate: d.caCertificate }),
    client: {
      servers: d.servers,
      user: CLIENT_USER,
      password: d.secrets.clientPassword,
      timeoutMs: 10_000,
      ...tls,
    },
    system: {
      servers: d.servers,
      user: SYSTEM_USER,
      password: d.secrets.systemPassword,
      timeoutMs: 10_000,
      ...tls,
    },
  };
}

export class LocalInfra implements Infra {
  readonly kind = "local" as const;
  private readonly stacks: { readonly pilot: string; readonly ga: string };

  constructor(private readonly opts: LocalInfraOptions) {
    this.stacks = opts.stacks ?? { pilot: "staging", ga: "ga" };
  }

  /** The deployment standing in for `stack`. */
  deployment(stack: string): LocalDeployment {
    if (stack === this.stacks.pilot) return this.opts.pilot;
    if (stack === this.stacks.ga) return this.opts.ga;
    throw new Error(`unknown stack "${stack}": the rehearsal has ${this.stacks.pilot} and ${this.stacks.ga}`);
  }

  async readConfig(stack: string): Promise<RawStackConfig> {
    this.deployment(stack);
    const config = this.opts.config[stack];
    if (config === undefined) throw new Error(`no configuration for stack "${stack}" in the rehearsal`);
    return config;
  }

  async up(stack: string, opts: UpOptions = {}): Promise<StackEndpoint> {
    const onOutput = opts.onOutput;
    const d = this.deployment(stack);
    const timeout = this.opts.healthTimeoutMs ?? 60_000;
    if (stack === this.stacks.pilot) {
      // `pulumi up` on staging rewrites the pilot's config and restarts nats-server on it.
      onOutput?.(`restarting ${d.nodes.map((n) => n.spec.name).join(", ")} (single node, cluster disabled)`);
      await d.stop();
    } else {
      onOutput?.(`starting ${d.nodes.map((n) => n.spec.name).join(", ")}`);
    }
    await d.start();
    await d.waitHealthy(timeout);
    onOutput?.(`healthy: ${d.servers}`);
    const endpoint = localEndpoint(d);
    if (opts.stream ?? true) await this.streamResource(stack, endpoint, onOutput);
    return endpoint;
  }

  /**
   * What the stack's stream resource does on `up` (components/stream/jetStreamStreamProvider.ts): never create
   * the stream, adopt it, and bring it to `streamReplicas` with the same changeReplicas.
   */
  private async streamResource(stack: string, endpoint: StackEndpoint, onOutput?: (line: string) => void) {
    const raw = await this.readConfig(stack);
    const { streamName: stream, streamReplicas: replicas } = loadStackConfig((key) => raw[key]);
    const nc = await connectNats(endpoint.client);
    try {
      if ((await findStream(nc, stream)) === undefined) {
        throw new Error(
          `stream ${stream} does not exist on ${endpoint.natsUrl}: restore it first (createIfMissing is false)`,
        );
      }
      const r = await changeReplicas(nc, stream, replicas, {
        timeoutMs: this.opts.healthTimeoutMs ?? 60_000,
        onProgress: (p) => onOutput?.(p.message),
      });
      onOutput?.(`${stream}: R${r.after}${r.changed ? ` (was R${r.before})` : ", unchanged"}`);
    } finally {
      await nc.close();
    }
  }

  async endpoint(stack: string): Promise<StackEndpoint> {
    return localEndpoint(this.deployment(stack));
  }

  async stopNodes(stack: string): Promise<void> {
    await this.deployment(stack).stop();
  }
}
