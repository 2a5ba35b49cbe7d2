/**
 * The drift report: what each check found, in one shape for the terminal, `--json` and the CI job
 * summary. A finding always names where (target), what (field), the declared value and the live one.
 */

/** The three independent checks `akira-nats drift` runs. */
export type DriftCheckName = "preview" | "stream" | "conf";

export interface DriftFinding {
  readonly check: DriftCheckName;
  /** Where the drift is: a stream name, a node name, or a Pulumi resource. */
  readonly target: string;
  /** What drifted: a stream setting (`replicas`, `max_bytes` …), `sha256`, or a Pulumi operation. */
  readonly field: string;
  readonly declared: string;
  readonly live: string;
}

export type CheckStatus = "ok" | "drift" | "skipped";

export interface CheckResult {
  readonly check: DriftCheckName;
  readonly status: CheckStatus;
  /** One line: what was compared, or why the check was skipped. */
  readonly detail: string;
  readonly findings: readonly DriftFinding[];
  /** Pulumi's own diff text, when the preview found changes. */
  readonly diff?: string;
}

export interface DriftReport {
  readonly stack: string;
  readonly drift: boolean;
  readonly checks: readonly CheckResult[];
}

/** Exit codes of `akira-nats drift` (also in docs/ci-drift.md). */
export const DriftExit = { NoDrift: 0, Error: 1, Drift: 2 } as const;

export function buildReport(stack: string, checks: readonly CheckResult[]): DriftReport {
  return { stack, drift: checks.some((c) => c.status === "drift"), checks };
}

export function checkResult(
  check: DriftCheckName,
  detail: string,
  findings: readonly DriftFinding[],
  diff?: string,
): CheckResult {
  return {
    check,
    status: findings.length > 0 ? "drift" : "ok",
    detail,
    findings,
    ...(diff === undefined ? {} : { diff }),
  };
}

export function skipped(check: DriftCheckName, reason: string): CheckResult {
  return { check, status: "skipped", detail: reason, findings: [] };
}

/** Plain text for a terminal: one line per check, one indented line per finding. */
export function formatText(report: DriftReport): string {
  const lines = [`stack ${report.stack}: ${report.drift ? "DRIFT" : "no drift"}`];
  for (const c of report.checks) {
    lines.push(`${c.check}: ${c.status} (${c.detail})`);
    for (const f of c.findings) lines.push(`  ${formatFinding(f)}`);
  }
  return `${lines.join("\n")}\n`;
}

export function formatFinding(f: DriftFinding): string {
  return `${f.target} ${f.field}: declared ${f.declared}, live ${f.live}`;
}

/**
 * Markdown for `$GITHUB_STEP_SUMMARY`: a table of findings per check, Pulumi's diff folded away,
 * skipped checks named in one line (in CI the preview runs in its own step). Values are escaped
 * so a `|` in a subject cannot break the table.
 */
export function formatMarkdown(report: DriftReport): string {
  const out = [`## Drift on stack \`${report.stack}\`: ${report.drift ? "drift found" : "no drift"}`, ""];
  const skippedChecks = report.checks.filter((c) => c.status === "skipped").map((c) => c.check);
  if (skippedChecks.length > 0) out.push(`Not checked here: ${skippedChecks.join(", ")}.`, "");
  for (const c of report.checks.filter((x) => x.status !== "skipped")) {
    out.push(`### ${c.check}: ${c.status}`, "", c.detail, "");
    if (c.findings.length > 0) {
      out.push("| target | field | declared | live |", "|---|---|---|---|");
      for (const f of c.findings) {
        out.push(`| ${cell(f.target)} | ${cell(f.field)} | ${cell(f.declared)} | ${cell(f.live)} |`);
      }
      out.push("");
    }
    if (c.diff !== undefined && c.diff.trim() !== "") {
      out.push(
        "<details><summary>pulumi preview --diff</summary>",
        "",
        "```diff",
        c.diff.trimEnd(),
        "```",
        "</details>",
        "",
      );
    }
  }
  return `${out.join("\n")}\n`;
}

function cell(value: string): string {
  return `\`${value.replace(/\|/g, "\\|").replace(/`/g, "'")}\``;
}
