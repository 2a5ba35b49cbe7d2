/**
 * nats-server.conf drift on real files: each node's conf and the checksum recorded at apply,
 * written the way the node script writes them (`sha256sum nats-server.conf`), read from a temp
 * root and over a real sshd. A hand edit on a host is reported even when the program has not changed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { utils } from "ssh2";
import { sshFingerprint } from "../../components/cluster/adminTunnel";
import { ed25519KeyPair } from "../../components/cluster/ed25519KeyPair";
import { nodePrivateIps } from "../../components/cluster/network";
import { clusterNodeNames, renderClusterNodeConf } from "../../components/cluster/nodePlan";
import { sha256 } from "../../scripts/drift/confDrift";
import { sshHostsFromOutputs, sshOpener } from "../../scripts/drift/confNodes";
import { freePort } from "../../scripts/local/localNats";
import { sshdUnavailable, startSshd } from "../helpers/localSshd";
import { runCli } from "../helpers/runCli";
import { tempDir } from "../helpers/testServers";

const NAMES = clusterNodeNames("akira-ga", 3);
const PLAN = {
  clusterName: "akira-ga",
  nodes: NAMES.map((name, i) => ({ name, privateIp: nodePrivateIps("10.0.0.0/16", 3)[i] as string })),
  maxFileStoreBytes: 30 * 1024 ** 3,
};

/** Lays out `<root>/<node>/etc/nats/` as the node script leaves it, and `<expected>/<node>.conf`. */
function applyCluster(root: string, expected: string): Record<string, string> {
  const confs: Record<string, string> = {};
  mkdirSync(expected, { recursive: true });
  NAMES.forEach((name, i) => {
    const conf = renderClusterNodeConf(PLAN, i);
    confs[name] = conf;
    writeFileSync(join(expected, `${name}.conf`), conf);
    const dir = join(root, name, "etc", "nats");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "nats-server.conf"), conf);
    const r = spawnSync("sh", ["-c", "sha256sum nats-server.conf > nats-server.conf.sha256"], { cwd: dir });
    assert.equal(r.status, 0, String(r.stderr));
  });
  return confs;
}

const confFile = (root: string, node: string) => join(root, node, "etc", "nats", "nats-server.conf");

interface ConfCheck {
  status: string;
  detail: string;
  findings: { target: string; field: string; declared: string; live: string }[];
}

function confCheck(stdout: string): ConfCheck {
  return JSON.parse(stdout).checks.find((c: { check: string }) => c.check === "conf");
}

describe("drift - nats-server.conf against the recorded checksum and the program", () => {
  it("local root: clean, then a hand edit, a changed program and a lost checksum", {
    timeout: 60_000,
  }, async (t) => {
    const root = tempDir(t);
    const expected = join(root, "expected");
    const confs = applyCluster(root, expected);
    const args = [
      "drift",
      "--stack",
      "ga",
      "--skip-preview",
      "--skip-stream",
      "--conf-root",
      root,
      "--nodes",
      NAMES.join(","),
      "--expected-conf-dir",
      expected,
      "--json",
    ];

    const clean = await runCli(args);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stderr, "");
    assert.equal(confCheck(clean.stdout).status, "ok");
    assert.equal(
      confCheck(clean.stdout).detail,
      "nats-server.conf of akira-ga-1, akira-ga-2, akira-ga-3 against the recorded checksum and what the stack gives them (3 of 3)",
    );

    // Someone edits akira-ga-2's conf by hand and leaves the checksum alone.
    const original = confs["akira-ga-2"] as string;
    appendFileSync(confFile(root, "akira-ga-2"), "max_payload: 8MB\n");
    const edited = `${original}max_payload: 8MB\n`;
    const lines = original.split("\n").length;
    // The program now renders something else for akira-ga-3 (not applied yet).
    writeFileSync(join(expected, "akira-ga-3.conf"), (confs["akira-ga-3"] as string).replace("30", "40"));
    // akira-ga-1 lost its checksum file.
    rmSync(join(root, "akira-ga-1", "etc", "nats", "nats-server.conf.sha256"));

    const run = await runCli(args);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr, "");
    const check = confCheck(run.stdout);
    assert.equal(check.status, "drift");
    const newGa3 = (confs["akira-ga-3"] as string).replace("30", "40");
    assert.deepEqual(check.findings, [
      {
        check: "conf",
        target: "akira-ga-1",
        field: "/etc/nats/nats-server.conf.sha256 (checksum recorded at apply)",
        declared: "a sha256",
        live: "missing",
      },
      {
        check: "conf",
        target: "akira-ga-2",
        field: "/etc/nats/nats-server.conf sha256 (edited on the host since the last apply)",
        declared: sha256(original),
        live: sha256(edited),
      },
      {
        check: "conf",
        target: "akira-ga-2",
        field: `/etc/nats/nats-server.conf sha256 (what the stack gives this node; lines differ: ${lines}-${lines + 1})`,
        declared: sha256(original),
        live: sha256(edited),
      },
      {
        check: "conf",
        target: "akira-ga-3",
        field: `/etc/nats/nats-server.conf sha256 (what the stack gives this node; lines differ: ${firstDiff(newGa3, confs["akira-ga-3"] as string)})`,
        declared: sha256(newGa3),
        live: sha256(confs["akira-ga-3"] as string),
      },
    ]);
  });

  it("a missing conf is drift; --conf-root without --nodes is a usage error", {
    timeout: 30_000,
  }, async (t) => {
    const root = tempDir(t);
    applyCluster(root, join(root, "expected"));
    rmSync(confFile(root, "akira-ga-1"));
    const base = ["drift", "--stack", "ga", "--skip-preview", "--skip-stream", "--conf-root", root];
    const run = await runCli([...base, "--nodes", "akira-ga-1", "--json"]);
    assert.equal(run.code, 2);
    assert.deepEqual(confCheck(run.stdout).findings, [
      {
        check: "conf",
        target: "akira-ga-1",
        field: "/etc/nats/nats-server.conf",
        declared: "present",
        live: "missing",
      },
    ]);
    const usage = await runCli(base);
    assert.equal(usage.code, 1);
    assert.equal(usage.stderr, "akira-nats: --conf-root needs --nodes name,name,… (the node directories)\n");
  });
});

/** The 1-based number of the first line where two texts differ, as the report prints it. */
function firstDiff(a: string, b: string): string {
  const al = a.split("\n");
  const bl = b.split("\n");
  const i = al.findIndex((l, n) => l !== bl[n]);
  return String(i + 1);
}

describe("drift - nats-server.conf over SSH", { skip: sshdUnavailable() }, () => {
  it("reads the node's files through a real sshd, host key pinned; a wrong host key is an error", {
    timeout: 60_000,
  }, async (t) => {
    const sshd = await startSshd(t);
    const root = tempDir(t);
    applyCluster(root, join(root, "expected"));
    appendFileSync(confFile(root, "akira-ga-1"), "# tuned by hand\n");
    const keyFile = join(root, "id");
    writeFileSync(keyFile, sshd.privateKey, { mode: 0o600 });
    const knownHosts = join(root, "known_hosts");
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
    const args = [
      "drift",
      "--stack",
      "ga",
      "--skip-preview",
      "--skip-stream",
      "--ssh-host",
      `akira-ga-1=127.0.0.1:${sshd.port}`,
      "--ssh-user",
      sshd.user,
      "--ssh-key",
      keyFile,
      "--conf-path",
      confFile(root, "akira-ga-1"),
      "--timeout",
      "20000",
      "--json",
    ];
    const run = await runCli([...args, "--ssh-known-hosts", knownHosts]);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr, "");
    const check = confCheck(run.stdout);
    assert.equal(check.detail, "nats-server.conf of akira-ga-1 against the recorded checksum");
    assert.equal(check.findings.length, 1);
    assert.equal(
      check.findings[0]?.field,
      `${confFile(root, "akira-ga-1")} sha256 (edited on the host since the last apply)`,
    );

    const other = join(root, "other_known_hosts");
    writeFileSync(other, `[127.0.0.1]:${sshd.port} ${utils.generateKeyPairSync("ed25519").public}\n`);
    const refused = await runCli([...args, "--ssh-known-hosts", other]);
    assert.equal(refused.code, 1);
    // With --json the error is one JSON object on stdout.
    assert.equal(refused.stderr, "");
    assert.equal(
      JSON.parse(refused.stdout).error.message,
      `cannot read files on 127.0.0.1 over ssh root@127.0.0.1:${sshd.port}: Host denied (verification failed); check the address, the admin firewall rule, the host key (--ssh-known-hosts, else the one the stack pins: output nodes[].sshHostKey) and the SSH key`,
    );

    const unlisted = join(root, "unlisted_known_hosts");
    writeFileSync(unlisted, `203.0.113.7 ${sshd.hostPublicKey}\n`);
    const usage = await runCli([...args, "--ssh-known-hosts", unlisted]);
    assert.equal(usage.code, 1);
    assert.equal(
      JSON.parse(usage.stdout).error.message,
      `--ssh-known-hosts lists no key for [127.0.0.1]:${sshd.port}: add it (ssh-keyscan -p ${sshd.port} 127.0.0.1) or leave the option out`,
    );
  });

  it("without known_hosts, a node must present the host key it reported to pulumi up", {
    timeout: 60_000,
  }, async (t) => {
    const sshd = await startSshd(t);
    const root = tempDir(t);
    applyCluster(root, join(root, "expected"));
    const reported = sshFingerprint(Buffer.from(sshd.hostPublicKey.split(" ")[1] as string, "base64"));
    const hostsFrom = (sshHostKey: string) =>
      sshHostsFromOutputs({
        nodes: [{ name: "akira-ga-1", sshHost: "127.0.0.1", confSha256: "ab12", sshHostKey }],
      })?.map((h) => ({ ...h, port: sshd.port })) ?? [];
    const creds = { username: sshd.user, privateKey: sshd.privateKey, timeoutMs: 20_000 };
    const conf = confFile(root, "akira-ga-1");

    const reader = await sshOpener(hostsFrom(reported), creds)("akira-ga-1");
    try {
      assert.equal((await reader.read(conf))?.toString(), readFileSync(conf, "utf8"));
    } finally {
      await reader.close();
    }

    const other = sshFingerprint(
      Buffer.from(utils.generateKeyPairSync("ed25519").public.split(" ")[1] as string, "base64"),
    );
    await assert.rejects(sshOpener(hostsFrom(other), creds)("akira-ga-1"), {
      message: `cannot read files on 127.0.0.1 over ssh root@127.0.0.1:${sshd.port}: Host denied (verification failed); check the address, the admin firewall rule, the host key (--ssh-known-hosts, else the one the stack pins: output nodes[].sshHostKey) and the SSH key`,
    });
  });

  it("an admin path that does not answer: refused at once, saying where to run from", async () => {
    // A loopback port nothing listens on: what a runner outside adminCidrs meets, without the wait.
    const port = await freePort("127.0.0.1");
    const hosts = [{ name: "akira-ga-1", host: "127.0.0.1", port }];
    const err = await sshOpener(hosts, { privateKey: ed25519KeyPair("x").private, timeoutMs: 5_000 })(
      "akira-ga-1",
    ).catch((e) => e);
    assert.equal(
      err.message,
      `cannot reach ssh root@127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}): that is the admin path, SSH on the node, open only to the stack's adminCidrs. Run this from a machine inside adminCidrs (the drift job: a runner inside them, docs/ci-drift.md), or through a bastion (--tunnel-via)`,
    );
  });
});
