/** The pure parts of `akira-nats drift`: declared stream, parsers, report formats, the check runner. */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { utils } from "ssh2";
import {
  type ConfNode,
  checkNodeConf,
  differingLines,
  parseChecksum,
  sha256,
} from "../../scripts/drift/confDrift";
import {
  DriftUsageError,
  ed25519First,
  hostKeysFromKnownHosts,
  localOpener,
  openConfNodes,
  parseSshHosts,
  sshHostsFromOutputs,
} from "../../scripts/drift/confNodes";
import { DeclaredStreamError, declaredStream } from "../../scripts/drift/declaredStream";
import { buildReport, checkResult, formatMarkdown, formatText } from "../../scripts/drift/driftReport";
import {
  changedOps,
  isExpectNoChangesFailure,
  type PreviewRunner,
  pulumiFailure,
} from "../../scripts/drift/pulumiPreview";
import { runDrift } from "../../scripts/drift/runDrift";
import { readStackConfigFile } from "../../scripts/drift/stackConfigFile";
import { compareStream } from "../../scripts/drift/streamDrift";
import { tempDir } from "../helpers/testServers";

const ROOT = join(__dirname, "..", "..");

describe("drift - the declared stream", () => {
  it("comes from the real stack files: ga R3, staging R1, both AKIRA_CDR on akira.cdr.>", () => {
    assert.deepEqual(declaredStream(readStackConfigFile(ROOT, "ga")), {
      name: "AKIRA_CDR",
      replicas: 3,
      subjects: ["akira.cdr.>"],
    });
    assert.deepEqual(declaredStream(readStackConfigFile(ROOT, "staging")), {
      name: "AKIRA_CDR",
      replicas: 1,
      subjects: ["akira.cdr.>"],
    });
  });

  it("reads optional limits; secure values stay unread", (t) => {
    const dir = tempDir(t);
    writeFileSync(
      join(dir, "Pulumi.x.yaml"),
      [
        "config:",
        "  akira-nats:streamReplicas: 3",
        "  akira-nats:streamMaxAgeSeconds: 604800",
        "  akira-nats:streamStorage: file",
        "  akira-nats:clientPassword:",
        "    secure: v1:abc:def",
        "",
      ].join("\n"),
    );
    const get = readStackConfigFile(dir, "x");
    assert.equal(get("clientPassword"), undefined);
    assert.deepEqual(declaredStream(get), {
      name: "AKIRA_CDR",
      replicas: 3,
      subjects: ["akira.cdr.>"],
      storage: "file",
      maxAgeSeconds: 604800,
    });
  });

  it("names every bad key at once", () => {
    const raw: Record<string, string> = {
      streamReplicas: "three",
      streamSubjects: "akira.cdr.>",
      streamStorage: "disk",
      streamMaxBytes: "-2",
    };
    assert.throws(
      () => declaredStream((k) => raw[k]),
      (err) =>
        err instanceof DeclaredStreamError &&
        err.message ===
          'the stack\'s stream settings are invalid: akira-nats:streamReplicas must be a whole number from 1 to 5 (JetStream\'s limit), not "three"; akira-nats:streamSubjects must be a list of subjects (a JSON array of strings), not "akira.cdr.>"; akira-nats:streamStorage must be "file", not "disk"; akira-nats:streamMaxBytes must be -1 (unlimited) or a positive whole number, not "-2"',
    );
  });

  it("a missing stack file names the path and the fix", () => {
    assert.throws(() => readStackConfigFile("/nonexistent", "ga"), {
      message:
        "cannot read the config of stack ga (/nonexistent/Pulumi.ga.yaml: ENOENT): run from the Pulumi project directory or pass --work-dir",
    });
  });
});

describe("drift - stream comparison", () => {
  const live = {
    subjects: ["akira.cdr.>"],
    replicas: 1,
    storage: "file" as const,
    retention: "limits" as const,
    maxAgeSeconds: 0,
    maxBytes: 1024,
    maxMsgs: -1,
    duplicateWindowSeconds: 120,
    discard: "old" as const,
  };
  it("compares declared fields only", () => {
    assert.deepEqual(compareStream({ name: "S", replicas: 1, subjects: ["akira.cdr.>"] }, live), []);
    assert.deepEqual(
      compareStream({ name: "S", replicas: 3, subjects: ["akira.cdr.>"], maxBytes: 2048 }, live),
      [
        { check: "stream", target: "S", field: "replicas", declared: "3", live: "1" },
        { check: "stream", target: "S", field: "maxBytes", declared: "2048", live: "1024" },
      ],
    );
    assert.deepEqual(compareStream({ name: "S", replicas: 1, subjects: ["a.>"] }, live), [
      { check: "stream", target: "S", field: "subjects", declared: '["a.>"]', live: '["akira.cdr.>"]' },
    ]);
  });
});

describe("drift - parsers", () => {
  it("--ssh-host entries", () => {
    assert.deepEqual(parseSshHosts("a=203.0.113.1, b=[2001:db8::1]:2222,c=h.example:22"), [
      { name: "a", host: "203.0.113.1" },
      { name: "b", host: "2001:db8::1", port: 2222 },
      { name: "c", host: "h.example", port: 22 },
    ]);
    assert.throws(() => parseSshHosts("203.0.113.1"), {
      name: "DriftUsageError",
      message: '--ssh-host entry "203.0.113.1" is not name=host[:port], e.g. akira-ga-1=203.0.113.10',
    });
    assert.ok(new DriftUsageError("x") instanceof Error);
  });

  it("node addresses from the stack's `nodes` output prefer sshHost", () => {
    assert.deepEqual(
      sshHostsFromOutputs({
        nodes: [
          {
            name: "akira-ga-1",
            address: "10.0.1.11",
            sshHost: "203.0.113.11",
            confSha256: "ab12",
            sshHostKey: "SHA256:abc",
          },
          { name: "pilot", address: "198.51.100.5" },
        ],
      }),
      [
        { name: "akira-ga-1", host: "203.0.113.11", confSha256: "ab12", hostKeySha256: "SHA256:abc" },
        { name: "pilot", host: "198.51.100.5" },
      ],
    );
    assert.equal(sshHostsFromOutputs({}), undefined);
  });

  it("known_hosts keys for one host and port", () => {
    const text = [
      "# comment",
      "203.0.113.1,akira-ga-1 ssh-ed25519 AAAAone",
      "[203.0.113.1]:2222 ssh-ed25519 AAAAtwo",
      "@cert-authority * ssh-ed25519 AAAAca",
      "203.0.113.2 ssh-rsa AAAAthree",
    ].join("\n");
    assert.deepEqual(hostKeysFromKnownHosts(text, "203.0.113.1"), ["AAAAone"]);
    assert.deepEqual(hostKeysFromKnownHosts(text, "203.0.113.1", 2222), ["AAAAtwo"]);
    assert.deepEqual(hostKeysFromKnownHosts(text, "203.0.113.9"), []);
  });

  it("known_hosts keys: ed25519 first, the type the admin tunnel's single pin must name", () => {
    const blob = (line: string) => line.split(" ")[1] as string;
    const ecdsa = blob(utils.generateKeyPairSync("ecdsa", { bits: 256 }).public);
    const ed = blob(utils.generateKeyPairSync("ed25519").public);
    assert.deepEqual(ed25519First([ecdsa, ed]), [ed, ecdsa]);
    assert.deepEqual(ed25519First([ecdsa]), [ecdsa]);
    assert.deepEqual(ed25519First(["AAAA"]), ["AAAA"]);
  });

  it("checksum file: bare hex or sha256sum output", () => {
    const hex = "a".repeat(64);
    assert.equal(parseChecksum(`${hex}\n`), hex);
    assert.equal(parseChecksum(`${hex.toUpperCase()}  nats-server.conf\n`), hex);
    assert.equal(parseChecksum("not a checksum"), undefined);
    assert.equal(parseChecksum(`${hex}0\n`), undefined);
  });

  it("differing lines as ranges", () => {
    assert.equal(differingLines("a\nb\nc\nd\n", "a\nB\nC\nd\n"), "2-3");
    assert.equal(differingLines("a\nb\n", "a\nb\nc\n"), "3-4");
    assert.equal(differingLines("a\nb\nc", "x\nb\nz"), "1, 3");
  });

  it("Pulumi: expect-no-changes failures, old and new wording; summaries without `same`", () => {
    assert.ok(isExpectNoChangesFailure("error: no changes were expected but changes were proposed"));
    assert.ok(isExpectNoChangesFailure("no changes were expected for preview but changes were proposed"));
    assert.ok(!isExpectNoChangesFailure("error: getting stack: stack 'ga' not found"));
    assert.deepEqual(changedOps({ same: 12, update: 1, replace: 0, create: 2 }), { update: 1, create: 2 });
  });

  it("Pulumi failures become one line", () => {
    assert.equal(
      pulumiFailure(
        "ga",
        "code: -2\n stdout: \n stderr: Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT\n",
      ).message,
      "the Pulumi CLI is not installed or not on the PATH (https://www.pulumi.com/docs/install/): install it and log in, or run the live checks alone with --skip-preview and --server / --ssh-host",
    );
    assert.equal(
      pulumiFailure("ga", "code: 255\n stdout: \n stderr: error: no stack named 'ga' found\n").message,
      "pulumi on stack ga: no stack named 'ga' found",
    );
  });
});

describe("drift - conf against the stack's checksum", () => {
  it("a node whose conf differs from the output's confSha256 is drift, even with a fresh recorded checksum", async (t) => {
    const root = tempDir(t);
    const dir = join(root, "n1", "etc", "nats");
    mkdirSync(dir, { recursive: true });
    const conf = "server_name: n1\n";
    writeFileSync(join(dir, "nats-server.conf"), conf);
    writeFileSync(join(dir, "nats-server.conf.sha256"), `${sha256(conf)}  nats-server.conf\n`);
    const stackSha = sha256("server_name: n1\nport: 4222\n");
    const nodes = await openConfNodes(["n1"], localOpener(root), undefined, { n1: stackSha });
    assert.deepEqual(await checkNodeConf(nodes[0] as ConfNode), [
      {
        check: "conf",
        target: "n1",
        field: "/etc/nats/nats-server.conf sha256 (what the stack gives this node)",
        declared: stackSha,
        live: sha256(conf),
      },
    ]);
    const same = await openConfNodes(["n1"], localOpener(root), undefined, { n1: sha256(conf) });
    assert.deepEqual(await checkNodeConf(same[0] as ConfNode), []);
  });
});

describe("drift - report", () => {
  const report = buildReport("ga", [
    checkResult(
      "preview",
      "pulumi preview",
      [{ check: "preview", target: "stack ga", field: "resources to update", declared: "0", live: "1" }],
      "~ hcloud:index/firewall:Firewall fw update\n",
    ),
    checkResult("stream", "stream AKIRA_CDR", [
      { check: "stream", target: "AKIRA_CDR", field: "subjects", declared: '["a|b"]', live: '["c"]' },
    ]),
    { check: "conf", status: "skipped", detail: "--skip-conf", findings: [] },
  ]);

  it("text", () => {
    assert.equal(
      formatText(report),
      [
        "stack ga: DRIFT",
        "preview: drift (pulumi preview)",
        "  stack ga resources to update: declared 0, live 1",
        "stream: drift (stream AKIRA_CDR)",
        '  AKIRA_CDR subjects: declared ["a|b"], live ["c"]',
        "conf: skipped (--skip-conf)",
        "",
      ].join("\n"),
    );
  });

  it("markdown for the job summary, pipes escaped, Pulumi's diff folded", () => {
    assert.equal(
      formatMarkdown(report),
      [
        "## Drift on stack `ga`: drift found",
        "",
        "Not checked here: conf.",
        "",
        "### preview: drift",
        "",
        "pulumi preview",
        "",
        "| target | field | declared | live |",
        "|---|---|---|---|",
        "| `stack ga` | `resources to update` | `0` | `1` |",
        "",
        "<details><summary>pulumi preview --diff</summary>",
        "",
        "```diff",
        "~ hcloud:index/firewall:Firewall fw update",
        "```",
        "</details>",
        "",
        "### stream: drift",
        "",
        "stream AKIRA_CDR",
        "",
        "| target | field | declared | live |",
        "|---|---|---|---|",
        '| `AKIRA_CDR` | `subjects` | `["a\\|b"]` | `["c"]` |',
        "",
        "",
      ].join("\n"),
    );
  });
});

describe("drift - runner", () => {
  const runner = (changes: Record<string, number>): PreviewRunner => ({
    preview: async () => ({ changes, diff: "+ new resource\n" }),
    outputs: async () => ({}),
  });

  it("a preview with changes is drift; without, none", async () => {
    const base = { stack: "ga", workDir: ROOT, stream: "--skip-stream", conf: "--skip-conf" };
    const drifted = await runDrift({ ...base, preview: runner({ update: 2 }) });
    assert.equal(drifted.drift, true);
    assert.deepEqual(drifted.checks[0], {
      check: "preview",
      status: "drift",
      detail: "pulumi preview --refresh --expect-no-changes --diff",
      findings: [
        { check: "preview", target: "stack ga", field: "resources to update", declared: "0", live: "2" },
      ],
      diff: "+ new resource\n",
    });
    const clean = await runDrift({ ...base, preview: runner({}) });
    assert.equal(clean.drift, false);
    assert.equal(clean.checks[0]?.status, "ok");
  });

  it("a preview that cannot run is an error, not 'no drift'", async () => {
    const failing: PreviewRunner = {
      preview: async () => {
        throw new Error("error: no Pulumi CLI");
      },
      outputs: async () => ({}),
    };
    await assert.rejects(runDrift({ stack: "ga", workDir: ROOT, preview: failing, stream: "-", conf: "-" }), {
      message: "error: no Pulumi CLI",
    });
  });
});
