/**
 * The real stacks through the Pulumi Automation API: `LocalWorkspace.selectStack` on the project
 * directory, `stack.up()` streaming the engine's output, outputs and config read back. It needs the
 * `pulumi` CLI and the stacks' backend login, like `pulumi up` itself. Thin on purpose: everything
 * worth testing without the CLI is in the pure functions below.
 */
import { type ConfigMap, LocalWorkspace, type OutputMap, type Stack } from "@pulumi/pulumi/automation";
import { CLIENT_USER, SYSTEM_USER } from "../../components/cluster/natsConf";
import { STREAM_RESOURCE_TYPE } from "../../components/stream/jetStreamStream";
import { runHookCommand } from "./hooks";
import type { Infra, RawStackConfig, StackEndpoint, UpOptions } from "./infra";

/** The project's config namespace (Pulumi.yaml `name`). */
export const CONFIG_NAMESPACE = "akira-nats";

/** index.ts's stream resource (`cdr-stream`, no parent); its type is the dynamic provider's. */
export const STREAM_RESOURCE_NAME = "cdr-stream";

/** The URN `pulumi up --exclude` takes to leave the stream resource out. */
export function streamResourceUrn(stack: string, project = CONFIG_NAMESPACE): string {
  return `urn:pulumi:${stack}::${project}::${STREAM_RESOURCE_TYPE}::${STREAM_RESOURCE_NAME}`;
}

/** `akira-nats:nodeCount` → `nodeCount`; other namespaces (`hcloud:token`) are kept whole. */
export function rawConfigFromPulumi(config: ConfigMap, namespace = CONFIG_NAMESPACE): RawStackConfig {
  const raw: Record<string, string> = {};
  for (const [key, { value }] of Object.entries(config)) {
    const prefix = `${namespace}:`;
    raw[key.startsWith(prefix) ? key.slice(prefix.length) : key] = value;
  }
  return raw;
}

/** The endpoint from the `natsUrl` output and the passwords in the (secret) config. */
export function endpointFromStack(stack: string, outputs: OutputMap, raw: RawStackConfig): StackEndpoint {
  const natsUrl = outputs.natsUrl?.value;
  if (typeof natsUrl !== "string" || natsUrl === "") {
    throw new Error(
      `stack ${stack} has no natsUrl output: run \`pulumi up\` on it first (the program exports natsUrl, the comma-separated client URLs)`,
    );
  }
  const need = (key: string) => {
    const v = raw[key];
    if (v === undefined || v === "") {
      throw new Error(
        `stack ${stack} has no ${key}: pulumi config set --secret ${CONFIG_NAMESPACE}:${key} … --stack ${stack}`,
      );
    }
    return v;
  };
  // The authority the GA nodes' client TLS is issued by (absent on a plain pilot).
  const ca = typeof outputs.caCertificate?.value === "string" ? outputs.caCertificate.value : undefined;
  const tls = ca === undefined ? {} : { tls: { ca } };
  return {
    natsUrl,
    ...(ca === undefined ? {} : { caCertificate: ca }),
    client: {
      servers: natsUrl,
      user: CLIENT_USER,
      password: need("clientPassword"),
      timeoutMs: 10_000,
      ...tls,
    },
    system: {
      servers: natsUrl,
      user: SYSTEM_USER,
      password: need("systemPassword"),
      timeoutMs: 10_000,
      ...tls,
    },
  };
}

export interface PulumiInfraOptions {
  /** The directory holding Pulumi.yaml. Default: the current directory. */
  readonly workDir?: string;
  /**
   * The command that stops a stack's NATS nodes without deleting their disks (rollback step 1),
   * e.g. `hcloud server shutdown akira-ga-nats-1 && …`. Gets the stack name in `AKIRA_NATS_STACK`.
   */
  readonly stopNodesCommand?: string;
}

export class PulumiInfra implements Infra {
  readonly kind = "pulumi" as const;
  private readonly stacks = new Map<string, Promise<Stack>>();

  constructor(private readonly opts: PulumiInfraOptions = {}) {}

  private stack(stackName: string): Promise<Stack> {
    let s = this.stacks.get(stackName);
    if (s === undefined) {
      s = LocalWorkspace.selectStack({ stackName, workDir: this.opts.workDir ?? process.cwd() });
      this.stacks.set(stackName, s);
    }
    return s;
  }

  async readConfig(stack: string): Promise<RawStackConfig> {
    return rawConfigFromPulumi(await (await this.stack(stack)).getAllConfig());
  }

  async up(stack: string, opts: UpOptions = {}): Promise<StackEndpoint> {
    const s = await this.stack(stack);
    const result = await s.up({
      onOutput: (out) => opts.onOutput?.(out.trimEnd()),
      ...(opts.stream === false ? { exclude: [streamResourceUrn(stack)] } : {}),
    });
    if (result.summary.result !== "succeeded") {
      throw new Error(
        `pulumi up on stack ${stack} ended with "${result.summary.result}": see the output above`,
      );
    }
    return endpointFromStack(stack, result.outputs, rawConfigFromPulumi(await s.getAllConfig()));
  }

  async endpoint(stack: string): Promise<StackEndpoint> {
    const s = await this.stack(stack);
    return endpointFromStack(stack, await s.outputs(), rawConfigFromPulumi(await s.getAllConfig()));
  }

  async stopNodes(stack: string): Promise<void> {
    const cmd = this.opts.stopNodesCommand;
    if (cmd === undefined || cmd.trim() === "") {
      throw new Error(
        `no command to stop the nodes of stack ${stack}: set --hook-stop-nodes (or AKIRA_NATS_HOOK_STOP_NODES), e.g. "hcloud server shutdown <name>" for each node`,
      );
    }
    await runHookCommand("stop-nodes", cmd, { AKIRA_NATS_STACK: stack }, 600_000);
  }
}
