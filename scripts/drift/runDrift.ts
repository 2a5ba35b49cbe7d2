/**
 * Runs the drift checks of one stack and builds the report. Each check is optional, so the same
 * code serves CI (everything), a workstation, and the local rehearsal (`--skip-preview`).
 * A check that cannot run (server unreachable, SSH refused) throws: that is an error (exit 1),
 * never "no drift".
 */
import {
  type AdminTunnelOptions,
  openAdminTunnel,
  targetFromUrl,
} from "../../components/cluster/adminTunnel";
import { type ConnectionTarget, connectNats, serverList } from "../../components/jetstream/connection";
import { type ConfNode, type ConfPaths, checkNodeConf } from "./confDrift";
import type { DeclaredStream } from "./declaredStream";
import { buildReport, type CheckResult, checkResult, type DriftReport, skipped } from "./driftReport";
import { type PreviewRunner, previewFindings } from "./pulumiPreview";
import { compareStream, readLiveStream } from "./streamDrift";

export interface DriftOptions {
  readonly stack: string;
  /** The Pulumi project directory. */
  readonly workDir: string;
  /** The Pulumi preview; a string skips it and says why. */
  readonly preview: PreviewRunner | string;
  /** The live stream comparison; a string skips it and says why. */
  readonly stream:
    | {
        readonly declared: DeclaredStream;
        readonly target: ConnectionTarget;
        /** Reach `target.servers` through an SSH forward via a node (the admin path to GA). */
        readonly tunnel?: Omit<AdminTunnelOptions, "targets">;
      }
    | string;
  /** The conf checksum comparison; a string skips it and says why. */
  readonly conf: { readonly nodes: () => Promise<readonly ConfNode[]>; readonly paths?: ConfPaths } | string;
}

export async function runDrift(opts: DriftOptions): Promise<DriftReport> {
  const checks: CheckResult[] = [];
  checks.push(await previewCheck(opts));
  checks.push(await streamCheck(opts));
  checks.push(await confCheck(opts));
  return buildReport(opts.stack, checks);
}

async function previewCheck(opts: DriftOptions): Promise<CheckResult> {
  if (typeof opts.preview === "string") return skipped("preview", opts.preview);
  const outcome = await opts.preview.preview(opts.stack, opts.workDir);
  const findings = previewFindings(opts.stack, outcome);
  return checkResult(
    "preview",
    "pulumi preview --refresh --expect-no-changes --diff",
    findings,
    findings.length > 0 ? outcome.diff : undefined,
  );
}

async function streamCheck(opts: DriftOptions): Promise<CheckResult> {
  if (typeof opts.stream === "string") return skipped("stream", opts.stream);
  const { declared, target, tunnel } = opts.stream;
  const forward =
    tunnel === undefined
      ? undefined
      : await openAdminTunnel({ ...tunnel, targets: serverList(target.servers).map(targetFromUrl) });
  try {
    const servers = forward === undefined ? target.servers : forward.urls;
    return await compareLiveStream(declared, { ...target, servers, name: "akira-nats drift" });
  } finally {
    await forward?.close();
  }
}

async function compareLiveStream(declared: DeclaredStream, target: ConnectionTarget): Promise<CheckResult> {
  const nc = await connectNats(target);
  try {
    const live = await readLiveStream(nc, declared.name);
    const detail = `stream ${declared.name} declared R${declared.replicas} on ${declared.subjects.join(", ")}, compared with the live stream`;
    return checkResult("stream", detail, compareStream(declared, live));
  } finally {
    await nc.close();
  }
}

async function confCheck(opts: DriftOptions): Promise<CheckResult> {
  if (typeof opts.conf === "string") return skipped("conf", opts.conf);
  const nodes = await opts.conf.nodes();
  try {
    const findings = [];
    for (const node of nodes) findings.push(...(await checkNodeConf(node, opts.conf.paths)));
    const known = nodes.filter((n) => n.expectedConf !== undefined || n.expectedSha256 !== undefined).length;
    const detail = `nats-server.conf of ${nodes.map((n) => n.name).join(", ")} against the recorded checksum${known > 0 ? ` and what the stack gives them (${known} of ${nodes.length})` : ""}`;
    return checkResult("conf", detail, findings);
  } finally {
    await Promise.all(nodes.map((n) => n.reader.close()));
  }
}
