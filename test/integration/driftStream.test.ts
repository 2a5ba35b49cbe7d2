/**
 * `akira-nats drift` against a real 3-node cluster: the stream changed by hand (replicas and a
 * limit) is reported field by field with the declared and the live value, exit 2; an untouched
 * stream exits 0; an unreachable cluster exits 1 with one line.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { issueAuthority } from "../../components/tls/certificates";
import { freePort } from "../../scripts/local/localNats";
import { sshdUnavailable, startSshd } from "../helpers/localSshd";
import { runCli } from "../helpers/runCli";
import { startCluster, startPilot, tempDir } from "../helpers/testServers";

const MAX_BYTES = 64 * 1024 * 1024;

const drift = (args: readonly string[], env: Record<string, string> = {}) => runCli(["drift", ...args], env);

function writeStackConfig(dir: string, stack: string): void {
  writeFileSync(
    join(dir, `Pulumi.${stack}.yaml`),
    [
      "config:",
      "  akira-nats:mode: cluster",
      "  akira-nats:streamName: AKIRA_CDR",
      '  akira-nats:streamReplicas: "3"',
      "  akira-nats:streamSubjects:",
      '    - "akira.cdr.>"',
      `  akira-nats:streamMaxBytes: "${MAX_BYTES}"`,
      "  akira-nats:clientPassword:",
      "    secure: v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBBBB",
      "",
    ].join("\n"),
  );
}

describe("drift - live stream against the stack's declaration", () => {
  it("reports replicas and max_bytes changed by hand (exit 2), none before (exit 0)", {
    timeout: 120_000,
  }, async (t) => {
    const cluster = await startCluster(t);
    const nc = await connect({
      servers: cluster.servers.split(","),
      user: cluster.user,
      pass: cluster.secrets.clientPassword,
    });
    t.after(() => nc.close());
    const jsm = await nc.jetstreamManager();
    const created = await jsm.streams.add({
      name: "AKIRA_CDR",
      subjects: ["akira.cdr.>"],
      num_replicas: 3,
      max_bytes: MAX_BYTES,
    });
    assert.equal(created.config.num_replicas, 3);

    const work = tempDir(t);
    writeStackConfig(work, "ga");
    const args = [
      "--stack",
      "ga",
      "--work-dir",
      work,
      "--skip-preview",
      "--skip-conf",
      "-s",
      cluster.servers,
    ];
    const env = { NATS_PASSWORD: cluster.secrets.clientPassword };

    const clean = await drift([...args, "--json"], env);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stderr, "");
    const cleanReport = JSON.parse(clean.stdout);
    assert.equal(cleanReport.drift, false);
    assert.deepEqual(
      cleanReport.checks.map((c: { check: string; status: string }) => [c.check, c.status]),
      [
        ["preview", "skipped"],
        ["stream", "ok"],
        ["conf", "skipped"],
      ],
    );

    // By hand, as an operator with `nats stream edit` would.
    const info = await jsm.streams.info("AKIRA_CDR");
    await jsm.streams.update("AKIRA_CDR", { ...info.config, num_replicas: 1, max_bytes: 1024 * 1024 });

    const drifted = await drift([...args, "--json"], env);
    assert.equal(drifted.code, 2, drifted.stderr);
    assert.equal(drifted.stderr, "");
    const report = JSON.parse(drifted.stdout);
    assert.equal(report.drift, true);
    const stream = report.checks.find((c: { check: string }) => c.check === "stream");
    assert.equal(stream.status, "drift");
    assert.deepEqual(stream.findings, [
      { check: "stream", target: "AKIRA_CDR", field: "replicas", declared: "3", live: "1" },
      {
        check: "stream",
        target: "AKIRA_CDR",
        field: "maxBytes",
        declared: String(MAX_BYTES),
        live: "1048576",
      },
    ]);

    const summary = join(work, "summary.md");
    writeFileSync(summary, "# earlier steps\n");
    const text = await drift([...args, "--summary-file", summary], env);
    assert.equal(text.code, 2, text.stderr);
    assert.equal(
      text.stdout,
      [
        "stack ga: DRIFT",
        "preview: skipped (--skip-preview)",
        "stream: drift (stream AKIRA_CDR declared R3 on akira.cdr.>, compared with the live stream)",
        "  AKIRA_CDR replicas: declared 3, live 1",
        `  AKIRA_CDR maxBytes: declared ${MAX_BYTES}, live 1048576`,
        "conf: skipped (--skip-conf)",
        "",
      ].join("\n"),
    );
    assert.ok(!text.stdout.includes(cluster.secrets.clientPassword));
    // The job summary: appended after what earlier steps wrote.
    assert.equal(
      readFileSync(summary, "utf8"),
      [
        "# earlier steps",
        "## Drift on stack `ga`: drift found",
        "",
        "Not checked here: preview, conf.",
        "",
        "### stream: drift",
        "",
        "stream AKIRA_CDR declared R3 on akira.cdr.>, compared with the live stream",
        "",
        "| target | field | declared | live |",
        "|---|---|---|---|",
        "| `AKIRA_CDR` | `replicas` | `3` | `1` |",
        `| \`AKIRA_CDR\` | \`maxBytes\` | \`${MAX_BYTES}\` | \`1048576\` |`,
        "",
        "",
      ].join("\n"),
    );
  });

  it("a deleted stream is drift, never an error", { timeout: 60_000 }, async (t) => {
    const cluster = await startCluster(t);
    const work = tempDir(t);
    writeStackConfig(work, "ga");
    const run = await drift(
      [
        ...["--stack", "ga", "--work-dir", work, "--skip-preview", "--skip-conf"],
        ...["-s", cluster.servers, "--timeout", "20000", "--json"],
      ],
      { NATS_PASSWORD: cluster.secrets.clientPassword },
    );
    assert.equal(run.code, 2);
    const stream = JSON.parse(run.stdout).checks.find((c: { check: string }) => c.check === "stream");
    assert.deepEqual(stream.findings, [
      { check: "stream", target: "AKIRA_CDR", field: "exists", declared: "true", live: "false" },
    ]);
  });

  it("unreachable cluster - exit 1 with one line naming the URL", { timeout: 30_000 }, async (t) => {
    const work = tempDir(t);
    writeStackConfig(work, "ga");
    const url = `nats://127.0.0.1:${await freePort("127.0.0.1")}`;
    const run = await drift([
      "--stack",
      "ga",
      "--work-dir",
      work,
      "--skip-preview",
      "--skip-conf",
      "-s",
      url,
      "--timeout",
      "1000",
    ]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    // The detail in parentheses is nats.js's last error: CONNECTION_REFUSED, or a timeout on a
    // machine too loaded to finish one attempt in time; everything else is exact.
    const [line, ...rest] = run.stderr.split("\n");
    assert.deepEqual(rest, [""]);
    assert.match(
      line ?? "",
      /^akira-nats: cannot reach NATS at nats:\/\/127\.0\.0\.1:\d+ \((CONNECTION_REFUSED|[^)]*TIMEOUT[^)]*|[^)]*timed out[^)]*), gave up after 1000 ms\): check that the servers run and that the address, port and firewall are right \(for GA from outside the private network, use the admin tunnel\)$/,
    );
    assert.ok(line?.includes(url));
  });
});

describe("drift - the stream through the admin tunnel", { skip: sshdUnavailable() }, () => {
  it("reaches the pilot through a real sshd (--tunnel-via), host key pinned", {
    timeout: 60_000,
  }, async (t) => {
    const pilot = await startPilot(t);
    const sshd = await startSshd(t);
    const nc = await connect({
      servers: pilot.servers,
      user: pilot.user,
      pass: pilot.secrets.clientPassword,
    });
    t.after(() => nc.close());
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "AKIRA_CDR", subjects: ["akira.cdr.>"], num_replicas: 1 });

    const work = tempDir(t);
    writeFileSync(
      join(work, "Pulumi.staging.yaml"),
      'config:\n  akira-nats:mode: single\n  akira-nats:streamReplicas: "1"\n',
    );
    const keyFile = join(work, "id");
    writeFileSync(keyFile, sshd.privateKey, { mode: 0o600 });
    const knownHosts = join(work, "known_hosts");
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
    const run = await drift(
      [
        "--stack",
        "staging",
        "--work-dir",
        work,
        "--skip-preview",
        "--skip-conf",
        "-s",
        pilot.servers,
        "--timeout",
        "20000",
        "--tunnel-via",
        `127.0.0.1:${sshd.port}`,
        "--ssh-user",
        sshd.user,
        "--ssh-key",
        keyFile,
        "--ssh-known-hosts",
        knownHosts,
      ],
      { NATS_PASSWORD: pilot.secrets.clientPassword },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.equal(
      run.stdout,
      [
        "stack staging: no drift",
        "preview: skipped (--skip-preview)",
        "stream: ok (stream AKIRA_CDR declared R1 on akira.cdr.>, compared with the live stream)",
        "conf: skipped (--skip-conf)",
        "",
      ].join("\n"),
    );
  });

  it("a TLS cluster through the admin tunnel: drift speaks TLS with the stack's authority (--tlsca)", {
    timeout: 60_000,
  }, async (t) => {
    const authority = issueAuthority("akira-nats drift test", 30);
    const pilot = await startPilot(t, { tls: { authority } });
    const sshd = await startSshd(t);
    const nc = await connectNats({
      servers: pilot.servers,
      user: pilot.user,
      password: pilot.secrets.clientPassword,
      tls: { ca: authority.certificate },
    });
    t.after(() => nc.close());
    await (await nc.jetstreamManager()).streams.add({
      name: "AKIRA_CDR",
      subjects: ["akira.cdr.>"],
      num_replicas: 1,
    });

    const work = tempDir(t);
    writeFileSync(
      join(work, "Pulumi.staging.yaml"),
      'config:\n  akira-nats:mode: single\n  akira-nats:streamReplicas: "1"\n',
    );
    const keyFile = join(work, "id");
    writeFileSync(keyFile, sshd.privateKey, { mode: 0o600 });
    const knownHosts = join(work, "known_hosts");
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
    const caFile = join(work, "ca.pem");
    writeFileSync(caFile, authority.certificate);
    const args = [
      "--stack",
      "staging",
      "--work-dir",
      work,
      "--skip-preview",
      "--skip-conf",
      "-s",
      pilot.servers,
      "--timeout",
      "20000",
      "--tunnel-via",
      `127.0.0.1:${sshd.port}`,
      "--ssh-user",
      sshd.user,
      "--ssh-key",
      keyFile,
      "--ssh-known-hosts",
      knownHosts,
    ];
    const run = await drift([...args, "--tlsca", caFile], { NATS_PASSWORD: pilot.secrets.clientPassword });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^stream: ok /m);
    // Without the authority, the forwarded connection is refused, not used in plaintext.
    const refused = await drift(args, { NATS_PASSWORD: pilot.secrets.clientPassword });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /TLS with NATS at nats:\/\/127\.0\.0\.1:\d+ failed/);
  });
});
