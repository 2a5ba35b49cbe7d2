/**
 * `akira-nats drift --stack NAME [--json]`: everything that differs between what the stack
 * declares and what runs. Pulumi's preview with refresh and expect-no-changes, then the checks
 * Pulumi cannot make: the live stream's settings and each node's nats-server.conf.
 * Exit 0 no drift, 2 drift found, 1 error (docs/ci-drift.md).
 */
import { appendFile, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { sshFingerprint } from "../../components/cluster/adminTunnel";
import { CLIENT_USER } from "../../components/cluster/natsConf";
import {
  type ConnectionFlags,
  connectionTarget,
  parseTimeoutMs,
  withConnectionFlags,
} from "../cli/connectionFlags";
import { checksumPathFor, DEFAULT_CONF_PATH } from "../drift/confDrift";
import {
  DriftUsageError,
  ed25519First,
  localOpener,
  openConfNodes,
  parseSshHosts,
  pinnedKeys,
  type SshHost,
  sshHostsFromOutputs,
  sshOpener,
} from "../drift/confNodes";
import { declaredStream } from "../drift/declaredStream";
import { DriftExit, formatMarkdown, formatText } from "../drift/driftReport";
import { automationPreviewRunner, type PreviewRunner } from "../drift/pulumiPreview";
import { type DriftOptions, runDrift } from "../drift/runDrift";
import { type ConfigGetter, readStackConfigFile } from "../drift/stackConfigFile";

interface DriftFlags extends ConnectionFlags {
  stack: string;
  json?: boolean;
  workDir: string;
  skipPreview?: boolean;
  skipStream?: boolean;
  skipConf?: boolean;
  tunnelVia?: string;
  tunnel: boolean;
  confRoot?: string;
  nodes?: string;
  sshHost?: string;
  sshUser?: string;
  sshKey?: string;
  sshKnownHosts?: string;
  confPath: string;
  checksumPath?: string;
  expectedConfDir?: string;
  summaryFile?: string;
}

export function registerDrift(program: Command, runner: PreviewRunner = automationPreviewRunner()): void {
  const cmd = program
    .command("drift")
    .description(
      "Compare the stack with reality: pulumi preview --refresh --expect-no-changes, the live stream, each node's nats-server.conf (exit 0 none, 2 drift, 1 error)",
    )
    .requiredOption("--stack <name>", "the stack: staging or ga")
    .option("--json", "print the report as JSON")
    .option("--work-dir <dir>", "the Pulumi project directory (holds Pulumi.<stack>.yaml)", ".")
    .option(
      "--skip-preview",
      "skip the Pulumi preview (no Pulumi CLI, a local rehearsal, or CI ran it already)",
    )
    .option("--skip-stream", "skip the live stream comparison")
    .option("--skip-conf", "skip the nats-server.conf comparison")
    .option(
      "--tunnel-via <host[:port]>",
      "reach the servers through an SSH forward via this node (default with the stack's natsUrl: the first node)",
    )
    .option("--no-tunnel", "connect to the servers directly even when they come from the stack's natsUrl")
    .option("--conf-root <dir>", "read each node's files below <dir>/<node>/ instead of over SSH")
    .option("--nodes <names>", "node names for --conf-root, comma-separated")
    .option("--ssh-host <list>", "nodes over SSH: name=host[:port],… (default: the stack's `nodes` output)")
    .option("--ssh-user <user>", "SSH user (default: pilotSshUser on a single-node stack, else root)")
    .option("--ssh-key <file>", "SSH private key file (or its text in env AKIRA_SSH_PRIVATE_KEY)")
    .option("--ssh-known-hosts <file>", "accept only the host keys this file lists (known_hosts format)")
    .option("--conf-path <path>", "nats-server.conf on the node", DEFAULT_CONF_PATH)
    .option(
      "--checksum-path <path>",
      "the checksum recorded at apply (default: nats-server.conf.sha256 beside it)",
    )
    .option("--expected-conf-dir <dir>", "the confs the program renders now, as <dir>/<node>.conf")
    .option(
      "--summary-file <file>",
      "append a Markdown report here when drift is found ($GITHUB_STEP_SUMMARY)",
    );
  withConnectionFlags(cmd).action(async (flags: DriftFlags) => {
    const report = await runDrift(await driftOptions(flags, runner));
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatText(report));
    if (report.drift && flags.summaryFile !== undefined) {
      await appendFile(flags.summaryFile, formatMarkdown(report));
    }
    process.exitCode = report.drift ? DriftExit.Drift : DriftExit.NoDrift;
  });
}

/** What a check needs from the stack, each piece read once and only when needed. */
interface StackFacts {
  readonly config: () => ConfigGetter;
  readonly outputs: () => Promise<Record<string, unknown>>;
  readonly sshKey: () => Promise<string>;
  readonly knownHosts: () => Promise<string | undefined>;
  readonly sshUser: () => string;
}

async function driftOptions(flags: DriftFlags, runner: PreviewRunner): Promise<DriftOptions> {
  const workDir = resolve(flags.workDir);
  const stack = flags.stack;
  const config = once(() => readStackConfigFile(workDir, stack));
  const facts: StackFacts = {
    config,
    outputs: once(() => runner.outputs(stack, workDir)),
    sshKey: once(() => sshKey(flags)),
    knownHosts: once(async () =>
      flags.sshKnownHosts === undefined ? undefined : await readFile(flags.sshKnownHosts, "utf8"),
    ),
    sshUser: () =>
      flags.sshUser ?? (config()("mode") === "single" ? config()("pilotSshUser") : undefined) ?? "root",
  };
  return {
    stack,
    workDir,
    preview: flags.skipPreview ? "--skip-preview" : runner,
    stream: flags.skipStream ? "--skip-stream" : await streamOption(flags, facts),
    conf: flags.skipConf ? "--skip-conf" : await confOption(flags, facts),
  };
}

async function streamOption(flags: DriftFlags, facts: StackFacts): Promise<DriftOptions["stream"]> {
  const declared = declaredStream(facts.config());
  const explicit = flags.server ?? process.env.NATS_URL;
  const target = connectionTarget({ ...flags, server: explicit ?? "" });
  let servers = explicit;
  let via = flags.tunnelVia;
  let reportedKey: string | undefined;
  let reportedKeyType: string | undefined;
  let stackCa: string | undefined;
  if (servers === undefined) {
    // The stack's own client URLs are private addresses: reach them through the first node.
    const outputs = await facts.outputs();
    if (typeof outputs.natsUrl !== "string") {
      throw new DriftUsageError(`stack ${flags.stack} exports no natsUrl: pass --server (or NATS_URL)`);
    }
    servers = outputs.natsUrl;
    // The stack's client-TLS authority, unless the operator named one (--tlsca, NATS_CA).
    if (typeof outputs.caCertificate === "string") stackCa = outputs.caCertificate;
    if (via === undefined && flags.tunnel) {
      const first = sshHostsFromOutputs(outputs)?.[0];
      via = first?.host;
      reportedKey = first?.hostKeySha256;
      reportedKeyType = first?.hostKeyAlgorithm;
    }
  }
  const tls = target.tls ?? (stackCa === undefined ? undefined : { ca: stackCa });
  const withUser = {
    ...target,
    servers,
    user: target.user ?? CLIENT_USER,
    ...(tls === undefined ? {} : { tls }),
  };
  if (via === undefined || !flags.tunnel) return { declared, target: withUser };
  const [sshHost, port] = splitHostPort(via);
  const knownHosts = await facts.knownHosts();
  const listed =
    knownHosts === undefined ? undefined : ed25519First(pinnedKeys(knownHosts, sshHost, port))[0];
  const pinned = listed === undefined ? reportedKey : sshFingerprint(Buffer.from(listed, "base64"));
  return {
    declared,
    target: withUser,
    tunnel: {
      sshHost,
      sshPort: port,
      sshUser: facts.sshUser(),
      readyTimeoutMs: sshTimeoutMs(target.timeoutMs),
      privateKey: await facts.sshKey(),
      ...(pinned === undefined ? {} : { hostKeySha256: pinned }),
      ...(pinned === undefined || listed !== undefined || reportedKeyType === undefined
        ? {}
        : { hostKeyAlgorithm: reportedKeyType }),
    },
  };
}

async function confOption(flags: DriftFlags, facts: StackFacts): Promise<DriftOptions["conf"]> {
  const paths = { conf: flags.confPath, checksum: flags.checksumPath ?? checksumPathFor(flags.confPath) };
  if (flags.confRoot !== undefined) {
    const names = (flags.nodes ?? "").split(",").filter((s) => s.trim().length > 0);
    if (names.length === 0)
      throw new DriftUsageError("--conf-root needs --nodes name,name,… (the node directories)");
    const root = flags.confRoot;
    return { paths, nodes: () => openConfNodes(names, localOpener(root), flags.expectedConfDir) };
  }
  const hosts: SshHost[] | undefined =
    flags.sshHost === undefined ? sshHostsFromOutputs(await facts.outputs()) : parseSshHosts(flags.sshHost);
  if (hosts === undefined) {
    return "no node addresses: pass --ssh-host name=host,… or --conf-root (the stack exports no `nodes` output)";
  }
  const knownHosts = await facts.knownHosts();
  const creds = {
    timeoutMs: sshTimeoutMs(parseTimeoutMs(flags.timeout ?? "5000")),
    username: facts.sshUser(),
    privateKey: await facts.sshKey(),
    ...(knownHosts === undefined ? {} : { knownHosts }),
  };
  const names = hosts.map((h) => h.name);
  const expectedSha = Object.fromEntries(hosts.map((h) => [h.name, h.confSha256]));
  return {
    paths,
    nodes: () => openConfNodes(names, sshOpener(hosts, creds), flags.expectedConfDir, expectedSha),
  };
}

async function sshKey(flags: DriftFlags): Promise<string> {
  if (flags.sshKey !== undefined) {
    try {
      return await readFile(flags.sshKey, "utf8");
    } catch (err) {
      throw new DriftUsageError(
        `cannot read the SSH key ${flags.sshKey} (${(err as NodeJS.ErrnoException).code}): pass the stack's key with --ssh-key`,
      );
    }
  }
  const fromEnv = process.env.AKIRA_SSH_PRIVATE_KEY;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return fromEnv;
  throw new DriftUsageError(
    "the SSH checks need the stack's key: --ssh-key <file> or env AKIRA_SSH_PRIVATE_KEY (pulumi config get akira-nats:sshPrivateKey); or --skip-conf and --server",
  );
}

/** SSH logins take longer than a NATS connect; `--timeout` only ever raises the 10 s SSH default. */
function sshTimeoutMs(natsTimeoutMs: number | undefined): number {
  return Math.max(10_000, natsTimeoutMs ?? 0);
}

function splitHostPort(text: string): [string, number] {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text.trim());
  if (m === null || m[1] === undefined)
    throw new DriftUsageError(`--tunnel-via "${text}" is not host[:port]`);
  return [m[1].replace(/^\[|\]$/g, ""), m[2] === undefined ? 22 : Number(m[2])];
}

function once<T>(fn: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = fn();
      done = true;
    }
    return value;
  };
}
