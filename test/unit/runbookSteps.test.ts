import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Journal, type JsonValue } from "../../scripts/runbook/journal";
import { formatPlan, openJournal, runSteps, type Step, stepKey } from "../../scripts/runbook/steps";
import { tempDir } from "../helpers/testServers";

interface Ctx {
  calls: string[];
  failAt?: string;
  failIn?: "precondition" | "action" | "check";
}

function steps(): Step<Ctx>[] {
  return ["a", "b", "c", "d"].map((name, i) => ({
    name,
    description: `step ${name}`,
    ...(i === 0 ? { runbook: "5" } : {}),
    async precondition(ctx) {
      if (ctx.failAt === name && ctx.failIn === "precondition") throw new Error(`${name} is not ready`);
    },
    async action(ctx, run): Promise<JsonValue> {
      ctx.calls.push(name);
      if (ctx.failAt === name && ctx.failIn === "action") throw new Error(`${name} broke`);
      const previous =
        i === 0 ? 0 : run.output(stepKey<{ n: number }>(["a", "b", "c", "d"][i - 1] as string)).n;
      return { n: previous + 1 };
    },
    async check(ctx) {
      if (ctx.failAt === name && ctx.failIn === "check") throw new Error(`${name} left nothing`);
    },
  }));
}

test("steps - run in order, each sees the previous output", async (t) => {
  const journal = Journal.create(join(tempDir(t), "j.json"), "cutover", "ga");
  const ctx: Ctx = { calls: [] };
  const r = await runSteps({ procedure: "cutover", steps: steps(), ctx, journal });
  assert.equal(r.ok, true);
  assert.deepEqual(ctx.calls, ["a", "b", "c", "d"]);
  assert.deepEqual(
    r.steps.map((s) => [s.name, s.status, s.output]),
    [
      ["a", "done", { n: 1 }],
      ["b", "done", { n: 2 }],
      ["c", "done", { n: 3 }],
      ["d", "done", { n: 4 }],
    ],
  );
  const saved = JSON.parse(readFileSync(journal.path, "utf8"));
  assert.equal(saved.finished, true);
  assert.deepEqual(
    saved.entries.map((e: { name: string; status: string }) => `${e.name}:${e.status}`),
    ["a:done", "b:done", "c:done", "d:done"],
  );
});

for (const failIn of ["precondition", "action", "check"] as const) {
  test(`steps - a failing ${failIn} stops the run with a message naming the step`, async (t) => {
    const journal = Journal.create(join(tempDir(t), "j.json"), "cutover", "ga");
    const ctx: Ctx = { calls: [], failAt: "b", failIn };
    const r = await runSteps({ procedure: "cutover", steps: steps(), ctx, journal });
    const message = {
      precondition: "precondition failed: b is not ready",
      action: "b broke",
      check: "check failed: b left nothing",
    }[failIn];
    assert.equal(r.ok, false);
    assert.deepEqual(r.failure, { step: "b", message });
    assert.deepEqual(ctx.calls, failIn === "precondition" ? ["a"] : ["a", "b"]);
    assert.deepEqual(journal.doneSteps(), ["a"]);
    assert.equal(journal.entries.find((e) => e.name === "b")?.error, message);
  });
}

test("journal - an interrupted run resumes after its last good step", async (t) => {
  const path = join(tempDir(t), "cutover-ga.journal.json");
  const first: Ctx = { calls: [] };
  const j1 = openJournal(path, "cutover", "ga", false);
  const r1 = await runSteps({
    procedure: "cutover",
    steps: steps(),
    ctx: first,
    journal: j1,
    stopAfter: "b",
  });
  assert.equal(r1.ok, true);
  assert.deepEqual(first.calls, ["a", "b"]);

  assert.throws(
    () => openJournal(path, "cutover", "ga", false),
    new Error(
      `an unfinished cutover of stack ga is recorded in ${path} (last good step: b): run with --resume to continue it, or move the file away to start over`,
    ),
  );
  const second: Ctx = { calls: [] };
  const j2 = openJournal(path, "cutover", "ga", true);
  const r2 = await runSteps({ procedure: "cutover", steps: steps(), ctx: second, journal: j2, resume: true });
  assert.equal(r2.ok, true);
  assert.deepEqual(second.calls, ["c", "d"]);
  assert.deepEqual(
    r2.steps.map((s) => `${s.name}:${s.status}`),
    ["a:resumed", "b:resumed", "c:done", "d:done"],
  );
  // c read b's output from the journal: 2 + 1.
  assert.deepEqual(r2.steps[2]?.output, { n: 3 });
  assert.throws(
    () => openJournal(path, "cutover", "ga", true),
    new Error(`nothing to resume: the cutover recorded in ${path} finished`),
  );
  // A finished journal is replaced by the next run.
  assert.equal(openJournal(path, "cutover", "ga", false).doneSteps().length, 0);
});

test("journal - a failed step is retried by --resume", async (t) => {
  const path = join(tempDir(t), "j.json");
  const ctx: Ctx = { calls: [], failAt: "c", failIn: "action" };
  await runSteps({
    procedure: "rollback",
    steps: steps(),
    ctx,
    journal: openJournal(path, "rollback", "staging", false),
  });
  ctx.failAt = undefined;
  ctx.calls = [];
  const r = await runSteps({
    procedure: "rollback",
    steps: steps(),
    ctx,
    journal: openJournal(path, "rollback", "staging", true),
    resume: true,
  });
  assert.equal(r.ok, true);
  assert.deepEqual(ctx.calls, ["c", "d"]);
});

test("journal - resume refuses a journal of other steps, and nothing to resume", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "j.json");
  assert.equal(existsSync(path), false);
  assert.throws(
    () => openJournal(path, "cutover", "ga", true),
    new Error(`nothing to resume: no journal at ${path} (run without --resume to start)`),
  );
  const j = openJournal(path, "cutover", "ga", false);
  await runSteps({ procedure: "cutover", steps: steps(), ctx: { calls: [] }, journal: j, stopAfter: "a" });
  const renamed = steps().map((s, i) => (i === 0 ? { ...s, name: "x" } : s));
  await assert.rejects(
    runSteps({
      procedure: "cutover",
      steps: renamed,
      ctx: { calls: [] },
      journal: openJournal(path, "cutover", "ga", true),
      resume: true,
    }),
    new Error(
      `journal ${path} does not match this cutover's steps (step 1 is "a" there, "x" here): move it away to start over`,
    ),
  );
});

test("plan - numbered steps with their runbook step and description", () => {
  assert.equal(
    formatPlan("cutover", "ga", steps() as Step<unknown>[]),
    [
      "cutover of stack ga: 4 steps (dry run, nothing was changed)",
      "1. a [runbook 5]",
      "   step a",
      "2. b",
      "   step b",
      "3. c",
      "   step c",
      "4. d",
      "   step d",
      "",
    ].join("\n"),
  );
});
