/**
 * The drift job's preview step (scripts/ci/drift-preview.sh) with a stand-in `pulumi` on PATH:
 * the exact arguments it is run with, its output in the log, its exit status passed through, and
 * Pulumi's diff in the job summary when changes are proposed (nothing there when none are).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

const SCRIPT = join(__dirname, "..", "..", "scripts", "ci", "drift-preview.sh");

const DIFF = [
  "Previewing update (ga):",
  "  pulumi:pulumi:Stack: (same)",
  "    ~ pulumi-nodejs:dynamic/akira/jetstream:Stream: (update)",
  "        [urn=urn:pulumi:ga::akira-nats::pulumi-nodejs:dynamic/akira/jetstream:Stream::cdr-stream]",
  "      ~ replicas: 3 => 1",
  "error: no changes were expected but changes were proposed",
].join("\n");

/** Runs the script with a stand-in pulumi that prints `output` and exits `status`. */
function run(output: string, status: number) {
  const dir = mkdtempSync(join(tmpdir(), "akira-drift-"));
  const bin = join(dir, "bin");
  spawnSync("mkdir", [bin]);
  writeFileSync(
    join(bin, "pulumi"),
    `#!/usr/bin/env bash\nprintf '%s\\n' "$*" > ${JSON.stringify(join(dir, "args"))}\ncat ${JSON.stringify(join(dir, "output"))}\nexit ${status}\n`,
  );
  chmodSync(join(bin, "pulumi"), 0o755);
  writeFileSync(join(dir, "output"), `${output}\n`);
  const summary = join(dir, "summary.md");
  const r = spawnSync("bash", [SCRIPT, "ga"], {
    encoding: "utf8",
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      GITHUB_STEP_SUMMARY: summary,
      RUNNER_TEMP: dir,
    },
  });
  return {
    status: r.status,
    stdout: r.stdout,
    args: readFileSync(join(dir, "args"), "utf8").trim(),
    summary: existsSync(summary) ? readFileSync(summary, "utf8") : undefined,
  };
}

describe("drift job - the preview step", () => {
  it("changes proposed: Pulumi's exit status, the diff in the log and in the job summary", () => {
    const r = run(DIFF, 255);
    assert.equal(r.status, 255);
    assert.equal(
      r.args,
      "preview --stack ga --refresh --expect-no-changes --diff --color never --suppress-progress --non-interactive",
    );
    assert.equal(r.stdout, `${DIFF}\n`);
    assert.equal(
      r.summary,
      `## pulumi preview on \`ga\`: changes proposed, or the preview failed (exit 255)\n\n\`\`\`\`diff\n${DIFF}\n\n\`\`\`\`\n`,
    );
  });

  it("no changes: exit 0 and nothing in the summary", () => {
    const r = run("Previewing update (ga):\nResources:\n    12 unchanged", 0);
    assert.equal(r.status, 0);
    assert.equal(r.summary, undefined);
  });

  it("a diff beyond GitHub's summary limit is cut, saying how much is left in the log", () => {
    const big = "x".repeat(950_000);
    const r = run(big, 255);
    assert.equal(r.status, 255);
    assert.ok(r.summary?.includes(`\n… ${950_001 - 900_000} more bytes in the log of this step\n`));
    assert.ok((r.summary?.length ?? 0) < 1_000_000);
  });
});
