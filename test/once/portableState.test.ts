/**
 * State outlives the checkout: a stream's `__provider`, written from one checkout, must drive
 * `read`, `diff`, `update` and `delete` from a clone at another path after the first is gone, the
 * way the engine's dynamic-provider host loads it (started in the program's directory); nothing in
 * it depends on the server line, so it runs once, on the pinned line. Each
 * checkout is a copy of this one's files with its own path; the provider runs in a child process
 * whose working directory is that copy, against a real nats-server.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { vanishedStreamMessage } from "../../components/stream/jetStreamStreamProvider";
import type { LocalDeployment } from "../../scripts/local/localNats";
import { startPilot, tempDir } from "../helpers/testServers";

const HERE = join(__dirname, "..", "..");

/** A copy of this checkout's files (tracked and new, not ignored) at `dir`, sharing node_modules. */
function cloneCheckout(dir: string): string {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
    cwd: HERE,
    encoding: "utf8",
  })
    .split("\0")
    .filter((f) => f !== "");
  for (const f of files) {
    mkdirSync(join(dir, f, ".."), { recursive: true });
    cpSync(join(HERE, f), join(dir, f), { dereference: false });
  }
  symlinkSync(join(HERE, "node_modules"), join(dir, "node_modules"));
  return dir;
}

// biome-ignore lint/suspicious/noExplicitAny: provider results are checked field by field below.
type HostResult = { ok?: any; error?: string };

/** Runs one provider step in a child process whose working directory is `checkout`. */
function hostStep(checkout: string, job: Record<string, unknown>): HostResult {
  const jobFile = join(checkout, ".job.json");
  writeFileSync(jobFile, JSON.stringify(job));
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", join(checkout, "test/helpers/stateDriver.ts"), jobFile],
    { cwd: checkout, encoding: "utf8", timeout: 60_000 },
  );
  const last = run.stdout.trim().split("\n").pop() ?? "";
  assert.ok(last.startsWith("{"), `the host step printed no result: ${run.stdout}${run.stderr}`);
  return JSON.parse(last);
}

describe("portable state - a stream's __provider works from another checkout", () => {
  let pilot: LocalDeployment;
  const cleanups: (() => unknown)[] = [];
  const hooks = { after: (fn: () => unknown) => cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  before(async () => {
    pilot = await startPilot(hooks);
  });

  it("written in checkout A, A removed: read, diff, update and delete from checkout B", () => {
    const root = tempDir(hooks, "akira-nats-checkouts-");
    const a = cloneCheckout(join(root, "first", "akira-nats"));
    const config = { "akira-nats:clientPassword": pilot.secrets.clientPassword };
    const args = {
      streamName: "AKIRA_CDR",
      replicas: 1,
      subjects: ["akira.cdr.>"],
      maxMsgs: -1,
      servers: pilot.servers.split(","),
      createIfMissing: true,
      allowDelete: true,
    };
    const captured = hostStep(a, { step: "capture", args: [args] });
    const providerText = captured.ok.providerText as string;
    assert.ok(!providerText.includes(root), "the stored provider names the checkout's path");
    assert.ok(!providerText.includes(HERE), "the stored provider names this checkout's path");
    assert.doesNotMatch(providerText, /node_modules|\/tmp\//);
    assert.match(providerText, /moduleFromRoot: "components\/stream\/jetStreamStreamProvider\.ts"/);
    const inputs = { ...args, __provider: providerText };
    const created = hostStep(a, { step: "create", providerText, args: [inputs], config });
    assert.equal(created.error, undefined);
    assert.equal(created.ok.id, "AKIRA_CDR");
    const state = created.ok.outs;

    rmSync(join(root, "first"), { recursive: true, force: true });
    const b = cloneCheckout(join(root, "elsewhere", "deeper", "checkout"));

    const read = hostStep(b, { step: "read", providerText, args: ["AKIRA_CDR", state], config });
    assert.equal(read.error, undefined);
    assert.equal(read.ok.id, "AKIRA_CDR");
    assert.equal(read.ok.props.maxMsgs, -1);
    assert.equal(read.ok.props.messages, 0);
    // State written before components/ had folders names the provider's old path: still revived.
    const legacyText = providerText.replace(
      '"components/stream/jetStreamStreamProvider.ts"',
      '"components/streamProvider.ts"',
    );
    assert.notEqual(legacyText, providerText);
    const legacyRead = hostStep(b, {
      step: "read",
      providerText: legacyText,
      args: ["AKIRA_CDR", state],
      config,
    });
    assert.deepEqual([legacyRead.error, legacyRead.ok.id], [undefined, "AKIRA_CDR"]);

    const news = { ...inputs, maxMsgs: 5000 };
    const diff = hostStep(b, { step: "diff", providerText, args: ["AKIRA_CDR", state, news], config });
    assert.deepEqual(diff.ok, { changes: true, replaces: [], deleteBeforeReplace: false });

    const updated = hostStep(b, { step: "update", providerText, args: ["AKIRA_CDR", state, news], config });
    assert.equal(updated.error, undefined);
    assert.equal(updated.ok.outs.maxMsgs, 5000);

    const deleted = hostStep(b, {
      step: "delete",
      providerText,
      args: ["AKIRA_CDR", updated.ok.outs],
      config,
    });
    assert.deepEqual(deleted, { ok: null });
    const gone = hostStep(b, { step: "read", providerText, args: ["AKIRA_CDR", updated.ok.outs], config });
    assert.deepEqual(gone, { error: vanishedStreamMessage("AKIRA_CDR", pilot.servers.split(",")) });
  });

  it("state written before the fix (absolute paths in __provider) is a no-change diff: the next up rewrites it", () => {
    const root = tempDir(hooks, "akira-nats-checkouts-");
    const b = cloneCheckout(join(root, "checkout"));
    const args = {
      streamName: "AKIRA_OLD",
      replicas: 1,
      subjects: ["akira.old.>"],
      servers: pilot.servers.split(","),
    };
    const fresh = hostStep(b, { step: "capture", args: [args] }).ok.providerText as string;
    // What the previous version stored: a shell holding the two absolute paths of its checkout.
    const oldState = {
      ...args,
      __provider: 'exports.handler = ...require("/gone/checkout/node_modules/tsx/dist/cjs/api/index.cjs")...',
      leader: "n1",
      peers: ["n1"],
      messages: 7,
      bytes: 700,
      lastSeq: 7,
      replicasCurrent: true,
    };
    const diff = hostStep(b, {
      step: "diff",
      providerText: fresh,
      args: ["AKIRA_OLD", oldState, { ...args, __provider: fresh }],
    });
    assert.deepEqual(diff.ok, { changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("outside any akira-nats checkout the host says where to run from", () => {
    const root = tempDir(hooks, "akira-nats-nowhere-");
    const b = cloneCheckout(join(root, "checkout"));
    const args = { streamName: "AKIRA_X", replicas: 1, subjects: ["x.>"], servers: pilot.servers.split(",") };
    const text = hostStep(b, { step: "capture", args: [args] }).ok.providerText as string;
    const outside = join(root, "outside");
    mkdirSync(outside);
    // The driver itself lives in the checkout; only the host's working directory is elsewhere.
    const jobFile = join(outside, "job.json");
    writeFileSync(jobFile, JSON.stringify({ step: "read", providerText: text, args: ["AKIRA_X", args] }));
    const run = spawnSync(
      process.execPath,
      [
        "--import",
        pathToFileURL(join(b, "node_modules/tsx/dist/loader.mjs")).href,
        join(b, "test/helpers/stateDriver.ts"),
        jobFile,
      ],
      { cwd: outside, encoding: "utf8", timeout: 60_000 },
    );
    assert.deepEqual(JSON.parse(run.stdout.trim().split("\n").pop() ?? ""), {
      error: `the akira-nats provider for this resource runs from the akira-nats checkout, and none was found from ${outside} upwards: run pulumi from the checkout's directory (the one with Pulumi.yaml), after npm ci`,
    });
  });
});
