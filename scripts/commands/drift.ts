/**
 * `akira-nats drift --stack NAME [--json]`: everything that differs between what the stack
 * declares and what runs. Pulumi's preview with refresh and expect-no-changes, then the checks
 * Pulumi cannot make: the live stream's settings and each node's nats-server.conf.
 * Exit 0 no drift, 2 drift found, 1 error (docs/ci-drift.md).
 */
import { appendFile, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { CLIENT_USER } from "../../components/natsConf";
import { type ConnectionFlags, connectionTarget, withConnectionFlags } from "../cli/connectionFlags";
import { checksumPathFor, DEFAULT_CONF_PATH } from "../drift/confDrift";
import {
  DriftUsageError,
  hostKeysFromKnownHosts,
  localOpener,
  openConfNodes,
  parseSshHosts,
  type SshHost,
  sshHostsFromOutputs,
  sshOpener,
} from "../drift/confNodes";
import { declaredStream } from "../drift/declaredStream";
import { automationPreviewRunner, type PreviewRunner } from "../drift/pulumiPreview";
import { DriftExit, formatMarkdown, formatText } from "../drift/report";
import { type DriftOptions, runDrift } from "../drift/runDrift";
import { readStackConfigFile } from "../drift/stackConfigFile";

interface DriftFlags extends ConnectionFlags {
  stack: string;
  json?: boolean;
  workDir: string;
  skipPreview?: boolean;
  skipStream?: boolean;
  skipConf?: boolean;
  confRoot?: string;
  nodes?: string;
  sshHost?: string;
  sshUser: string;
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
      "compare the stack with reality: pulumi preview --refresh --expect-no-changes, the live stream, each node's nats-server.conf (exit 0 none, 2 drift, 1 error)",
    )
    .requiredOption("--stack <name>", "the stack: staging or ga")
    .option("--json", "print the report as JSON")
    .option("--work-dir <dir>", "the Pulumi project directory (holds Pulumi.<stack>.yaml)", ".")
    .option("--skip-preview", "skip the Pulumi preview (no Pulumi CLI, or a local rehearsal)")
    .option("--skip-stream", "skip the live stream comparison")
    .option("--skip-conf", "skip the nats-server.conf comparison")
    .option("--conf-root <dir>", "read each node's files below <dir>/<node>/ instead of over SSH")
    .option("--nodes <names>", "node names for --conf-root, comma-separated")
    .option("--ssh-host <list>", "nodes over SSH: name=host[:port],… (default: the stack's `nodes` output)")
    .option("--ssh-user <user>", "SSH user", "root")
    .option("--ssh-key <file>", "SSH private key file (or its text in env AKIRA_SSH_PRIVATE_KEY)")
    .option("--ssh-known-hosts <file>", "accept only these host keys (known_hosts format)")
    .option("--conf-path <path>", "nats-server.conf on the node", DEFAULT_CONF_PATH)
    .option("--checksum-path <path>", "the checksum recorded at apply (default <conf-path>.sha256)")
    .option("--expected-conf-dir <dir>", "the confs the program renders now, as <dir>/<node>.conf")
    .option(
      "--summary-file <file>",
      "append a Markdown report here when drift is found ($GITHUB_STEP_SUMMARY)",
    );
  withConnectionFlags(cmd).action(async (flags: DriftFlags) => {
    const opts = await driftOptions(flags, runner);
    const report = await runDrift(opts);
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatText(report));
    if (report.drift && flags.summaryFile !== undefined) {
      await appendFile(flags.summaryFile, formatMarkdown(report));
    }
    process.exitCode = report.drift ? DriftExit.Drift : DriftExit.NoDrift;
  });
}

async function driftOptions(flags: DriftFlags, runner: PreviewRunner): Promise<DriftOptions> {
  const workDir = resolve(flags.workDir);
  const stack = flags.stack;
  const outputs = flags.skipPreview ? undefined : () => runner.outputs(stack, workDir);
  return {
    stack,
    workDir,
    preview: flags.skipPreview ? "--skip-preview" : runner,
    stream: flags.skipStream ? "--skip-stream" : streamOption(flags, workDir),
    conf: flags.skipConf ? "--skip-conf" : await confOption(flags, outputs),
  };
}

function streamOption(flags: DriftFlags, workDir: string): DriftOptions["stream"] {
  const declared = declaredStream(readStackConfigFile(workDir, flags.stack));
  const target = connectionTarget(flags);
  return { declared, target: { ...target, user: target.user ?? CLIENT_USER } };
}

async function confOption(
  flags: DriftFlags,
  outputs: (() => Promise<Record<string, unknown>>) | undefined,
): Promise<DriftOptions["conf"]> {
  const paths = { conf: flags.confPath, checksum: flags.checksumPath ?? checksumPathFor(flags.confPath) };
  if (flags.confRoot !== undefined) {
    const names = (flags.nodes ?? "").split(",").filter((s) => s.trim().length > 0);
    if (names.length === 0)
      throw new DriftUsageError("--conf-root needs --nodes name,name,… (the node directories)");
    const root = flags.confRoot;
    return { paths, nodes: () => openConfNodes(names, localOpener(root), flags.expectedConfDir) };
  }
  let hosts: SshHost[] | undefined = flags.sshHost === undefined ? undefined : parseSshHosts(flags.sshHost);
  if (hosts === undefined && outputs !== undefined) hosts = sshHostsFromOutputs(await outputs());
  if (hosts === undefined) {
    return "no node addresses: pass --ssh-host name=host,… or --conf-root (the stack exports no `nodes` output)";
  }
  const privateKey = await sshKey(flags);
  const hostKeys =
    flags.sshKnownHosts === undefined
      ? []
      : hostKeysFromKnownHosts(await readFile(flags.sshKnownHosts, "utf8"));
  const found = hosts;
  const creds = { username: flags.sshUser, privateKey, hostKeys };
  return {
    paths,
    nodes: () =>
      openConfNodes(
        found.map((h) => h.name),
        sshOpener(found, creds),
        flags.expectedConfDir,
      ),
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
    "the conf check needs the stack's SSH key: --ssh-key <file> or env AKIRA_SSH_PRIVATE_KEY (pulumi config get akira-nats:sshPrivateKey), or --skip-conf",
  );
}
