/**
 * The Pulumi part of drift: `pulumi preview --refresh --expect-no-changes --diff` on the stack,
 * through the Automation API. Refresh reads every resource back (the stream resource's `read`
 * included), and the preview then shows what `pulumi up` would change to make reality match the
 * program again. Kept behind {@link PreviewRunner} so the command can be tested without a Pulumi CLI.
 */
import type { DriftFinding } from "./driftReport";

export interface PreviewOutcome {
  /** Operation → count, `same` excluded. Empty when nothing would change. */
  readonly changes: Readonly<Record<string, number>>;
  /** Pulumi's `--diff` output. */
  readonly diff: string;
}

export interface PreviewRunner {
  preview(stack: string, workDir: string): Promise<PreviewOutcome>;
  /** The stack's outputs (node names and addresses for the conf check). */
  outputs(stack: string, workDir: string): Promise<Record<string, unknown>>;
}

/**
 * `--expect-no-changes` makes the CLI fail when anything would change
 * (pulumi/pulumi pkg/cmd/pulumi: "no changes were expected [for <op>] but changes were proposed");
 * that failure is the drift signal, not an error.
 */
const EXPECTED_NO_CHANGES = /no changes were expected( for \S+)? but changes were proposed/;

/** True when a failed preview failed only because it proposed changes. */
export function isExpectNoChangesFailure(message: string): boolean {
  return EXPECTED_NO_CHANGES.test(message);
}

/**
 * One line out of an Automation API failure (its message carries the whole command result): the
 * missing CLI said plainly, else Pulumi's own first `error:` line.
 */
export function pulumiFailure(stack: string, message: string): Error {
  if (/ENOENT/.test(message) && /pulumi/.test(message)) {
    return new Error(
      "the Pulumi CLI is not installed or not on the PATH (https://www.pulumi.com/docs/install/): install it and log in, or run the live checks alone with --skip-preview and --server / --ssh-host",
    );
  }
  const error = /(?:^|\s)error: (.+)/m.exec(message)?.[1];
  const first = message.split("\n").find((l) => l.trim().length > 0) ?? message;
  return new Error(`pulumi on stack ${stack}: ${(error ?? first).trim()}`);
}

async function selectStack(stackName: string, workDir: string) {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
  try {
    return await LocalWorkspace.selectStack({ stackName, workDir });
  } catch (err) {
    throw pulumiFailure(stackName, String((err as Error).message));
  }
}

export function automationPreviewRunner(): PreviewRunner {
  return {
    async preview(stackName, workDir) {
      const stack = await selectStack(stackName, workDir);
      let diff = "";
      try {
        const result = await stack.preview({
          refresh: true,
          expectNoChanges: true,
          diff: true,
          color: "never",
          onOutput: (line) => {
            diff += line;
          },
        });
        return { changes: changedOps(result.changeSummary), diff: result.stdout };
      } catch (err) {
        const text = `${(err as Error).message}`;
        if (isExpectNoChangesFailure(text)) return { changes: { changes: 1 }, diff };
        throw pulumiFailure(stackName, text);
      }
    },
    async outputs(stackName, workDir) {
      const stack = await selectStack(stackName, workDir);
      const out = await stack.outputs().catch((err: Error) => {
        throw pulumiFailure(stackName, String(err.message));
      });
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.value]));
    },
  };
}

export function changedOps(summary: Readonly<Record<string, number | undefined>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of Object.entries(summary)) if (op !== "same" && n !== undefined && n > 0) out[op] = n;
  return out;
}

/** One finding per operation kind Pulumi proposes, e.g. `update: 1`. */
export function previewFindings(stack: string, outcome: PreviewOutcome): DriftFinding[] {
  return Object.entries(outcome.changes).map(([op, n]) => ({
    check: "preview",
    target: `stack ${stack}`,
    field: op === "changes" ? "proposed changes" : `resources to ${op}`,
    declared: "0",
    live: String(n),
  }));
}
