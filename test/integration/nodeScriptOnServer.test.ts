/**
 * The node script run by bash against a real nats-server, in a temporary host root, the way the
 * remote command runs it on a VM: install from a release tarball, validate, start, re-run, refuse.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect } from "nats";
import { utils } from "ssh2";
import { sshFingerprint } from "../../components/cluster/adminTunnel";
import { renderClientTls } from "../../components/cluster/natsConf";
import {
  CONF_CHECKSUM_FILE,
  confChecksum,
  renderNodeScript,
  renderNodeStdin,
  reportedHostKey,
  TLS_KEY_MARKER,
  tlsDirFor,
} from "../../components/cluster/nodeScript";
import { connectNats } from "../../components/jetstream/connection";
import { issueAuthority, issueNodeCertificate } from "../../components/tls/certificates";
import { assertNatsServerInstalled, createLocalPilot, randomSecrets } from "../../scripts/local/localNats";
import { type LocalRelease, packageLocalRelease } from "../../scripts/local/localRelease";
import { processAlive, runNodeScript } from "../../scripts/local/localService";
import { binaryVersion, natsServerBin } from "../../scripts/local/natsServerBin";
import {
  monitorGet,
  runOn,
  type ScriptedNode,
  scriptedNodes,
  scriptFor,
} from "../../scripts/local/scriptedNodes";

/** The version the binary under test reports: the release is packaged under its real name. */
const VERSION = binaryVersion(natsServerBin()) ?? "unknown";

describe("node script - single host", () => {
  const dir = mkdtempSync(join(tmpdir(), "akira-node-"));
  const hosts: ScriptedNode[] = [];
  let release: LocalRelease;
  let node: ScriptedNode;
  let secrets: ReturnType<typeof randomSecrets>;
  const outputs: string[] = [];

  before(async () => {
    assertNatsServerInstalled();
    release = packageLocalRelease(dir, VERSION);
    secrets = randomSecrets();
    const pilot = await createLocalPilot({ dir: join(dir, "render"), secrets });
    [node] = scriptedNodes(pilot, join(dir, "hosts")) as [ScriptedNode];
    hosts.push(node);
  });

  after(async () => {
    for (const h of hosts) await h.host.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  after(() => {
    // Secrets reach the host on STDIN only: nothing the script printed may hold one.
    for (const out of outputs) {
      for (const secret of Object.values(secrets)) assert.ok(!out.includes(secret), "a secret was printed");
    }
  });

  test("fresh install - verified tarball, versioned path, symlink, validated config, healthy, checksum recorded", async () => {
    const script = scriptFor(node, release);
    for (const secret of Object.values(secrets))
      assert.ok(!script.includes(secret), "secret in the command text");
    const run = await runOn(node, script);
    outputs.push(run.stdout, run.stderr);
    const { paths } = node.host;
    const versionDir = join(paths.installDir, VERSION);
    assert.equal(run.stderr, "");
    assert.equal(
      run.stdout,
      [
        `akira-nats node: downloading ${release.baseUrl}/v${VERSION}/nats-server-v${VERSION}-linux-amd64.tar.gz`,
        `akira-nats node: installed nats-server ${VERSION} in ${versionDir} (SHA-256 verified)`,
        `akira-nats node: changes: binary -> ${VERSION} nats-server.conf secrets.conf`,
        `akira-nats node: starting nats-server ${VERSION}`,
        `akira-nats node: healthy: nats-server ${VERSION}, ${node.monitorUrl}/healthz?js-enabled-only=true ok`,
        "",
      ].join("\n"),
    );
    assert.equal(run.code, 0);
    assert.equal(readlinkSync(paths.binLink), join(versionDir, "nats-server"));
    assert.equal(readFileSync(join(paths.confDir, "nats-server.conf"), "utf8"), node.confText);
    assert.equal(readFileSync(join(paths.confDir, "secrets.conf"), "utf8"), node.secretsText);
    assert.equal(statSync(join(paths.confDir, "secrets.conf")).mode & 0o777, 0o600);
    assert.equal(
      readFileSync(join(paths.confDir, CONF_CHECKSUM_FILE), "utf8"),
      `${confChecksum(node.confText)}  nats-server.conf\n`,
    );
    assert.equal((await monitorGet(node.monitorUrl, "/healthz")).status, 200);
  });

  test("re-run with nothing changed - no-op, same process", async () => {
    const pid = node.host.pid();
    const run = await runOn(node, scriptFor(node, release));
    outputs.push(run.stdout, run.stderr);
    assert.equal(
      run.stdout,
      [
        `akira-nats node: nats-server ${VERSION} already installed in ${join(node.host.paths.installDir, VERSION)}`,
        `akira-nats node: unchanged: nats-server ${VERSION} healthy, nothing to do`,
        "",
      ].join("\n"),
    );
    assert.equal(run.code, 0);
    assert.equal(node.host.pid(), pid);
  });

  test("a host with an ed25519 SSH host key - its fingerprint is reported for the admin tunnel to pin", async () => {
    const key = utils.generateKeyPairSync("ed25519", { comment: "root@akira-ga-1" });
    mkdirSync(dirname(node.host.paths.sshHostKey), { recursive: true });
    writeFileSync(node.host.paths.sshHostKey, `${key.public}\n`);
    try {
      const run = await runOn(node, scriptFor(node, release));
      outputs.push(run.stdout, run.stderr);
      const expected = sshFingerprint(Buffer.from(key.public.split(" ")[1] as string, "base64"));
      assert.equal(run.code, 0);
      assert.ok(
        run.stdout.endsWith(
          `akira-nats node: unchanged: nats-server ${VERSION} healthy, nothing to do\nakira-nats node: ssh host key ssh-ed25519 ${expected}\n`,
        ),
        run.stdout,
      );
      assert.equal(reportedHostKey(run.stdout), expected);
    } finally {
      rmSync(node.host.paths.sshHostKey);
    }
  });

  test("a config nats-server -t refuses - refused, the running server keeps its config and answers", async () => {
    const pid = node.host.pid();
    assert.ok(pid !== undefined);
    const broken = node.confText.replace('lame_duck_duration: "30s"', 'lame_duck_duration: "5s"');
    assert.notEqual(broken, node.confText);
    const run = await runOn(node, scriptFor(node, release, { confText: broken }));
    outputs.push(run.stdout, run.stderr);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /invalid lame_duck_duration of 5s, minimum is 30 seconds/);
    assert.ok(
      run.stderr.endsWith(
        `akira-nats node: nats-server ${VERSION} refuses the new configuration (above): nothing was changed, the running node keeps its old configuration; fix the config and re-run pulumi up\n`,
      ),
      run.stderr,
    );
    assert.equal(node.host.pid(), pid);
    assert.ok(processAlive(pid));
    assert.equal(readFileSync(join(node.host.paths.confDir, "nats-server.conf"), "utf8"), node.confText);
    assert.equal((await monitorGet(node.monitorUrl, "/healthz")).status, 200);
    const nc = await connect({
      servers: node.url,
      user: "akira",
      pass: secrets.clientPassword,
      timeout: 5000,
    });
    try {
      const rtt = await nc.rtt();
      assert.ok(rtt >= 0);
    } finally {
      await nc.close();
    }
  });

  test("nats-server's error output quoting a secret - printed redacted", async () => {
    const leaky = `${node.confText}listen: $CLIENT_PASSWORD\n`;
    const run = await runOn(node, scriptFor(node, release, { confText: leaky }));
    outputs.push(run.stdout, run.stderr);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /could not parse address string "<redacted>"/);
    assert.ok(!run.stderr.includes(secrets.clientPassword));
  });

  test("the SSH session drops mid-roll - the script finishes the roll on its own", async () => {
    const pid = node.host.pid();
    const changed = node.confText.replace('lame_duck_grace_period: "10s"', 'lame_duck_grace_period: "5s"');
    assert.notEqual(changed, node.confText);
    const child = spawn("bash", ["-c", scriptFor(node, release, { confText: changed })], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdin.end(node.secretsText);
    let seen = "";
    await new Promise<void>((resolve) => {
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        seen += d;
        if (seen.includes("lame-duck mode for pid")) resolve();
      });
    });
    // What sshd does when the connection goes: SIGHUP, and nobody reads the output any more.
    child.kill("SIGHUP");
    child.stdout.destroy();
    child.stderr.destroy();
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0);
    assert.notEqual(node.host.pid(), pid);
    assert.equal(readFileSync(join(node.host.paths.confDir, "nats-server.conf"), "utf8"), changed);
    assert.equal((await monitorGet(node.monitorUrl, "/healthz")).status, 200);
    node = { ...node, confText: changed };
  });

  test("a tarball whose SHA-256 does not match - refused before anything changes", async () => {
    const fresh = scriptedNodes(
      await createLocalPilot({ dir: join(dir, "render2"), secrets }),
      join(dir, "hosts2"),
    );
    const [other] = fresh as [ScriptedNode];
    hosts.push(other);
    const wrong = "0".repeat(64);
    const run = await runOn(other, scriptFor(other, { ...release, sha256: wrong }));
    outputs.push(run.stdout, run.stderr);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      `akira-nats node: SHA-256 mismatch for nats-server-v${VERSION}-linux-amd64.tar.gz: expected ${wrong} (natsSha256), got ${release.sha256}; refusing to install, nothing was changed: set natsSha256 from the release's SHA256SUMS\n`,
    );
    const { paths } = other.host;
    assert.equal(existsSync(join(paths.installDir, VERSION)), false);
    assert.equal(existsSync(paths.binLink), false);
    assert.equal(existsSync(join(paths.confDir, "nats-server.conf")), false);
    assert.equal(existsSync(join(paths.confDir, "secrets.conf")), false);
    assert.equal(other.host.pid(), undefined);
  });

  test("secrets missing on STDIN - refused, nothing changed", async () => {
    const run = await runOn({ ...node, secretsText: "" }, scriptFor(node, release));
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      "akira-nats node: secrets.conf on STDIN was empty: pass renderNatsSecrets(...) as the command's stdin; nothing was changed\n",
    );
    assert.equal(readFileSync(join(node.host.paths.confDir, "secrets.conf"), "utf8"), node.secretsText);
  });
});

describe("node script - client TLS", () => {
  const dir = mkdtempSync(join(tmpdir(), "akira-node-tls-"));
  const authority = issueAuthority("akira-nats node script test", 30);
  let release: LocalRelease;
  let node: ScriptedNode;
  const hosts: ScriptedNode[] = [];

  before(async () => {
    release = packageLocalRelease(dir, VERSION);
    const pilot = await createLocalPilot({ dir: join(dir, "render"), secrets: randomSecrets() });
    [node] = scriptedNodes(pilot, join(dir, "hosts")) as [ScriptedNode];
    hosts.push(node);
  });
  after(async () => {
    for (const h of hosts) await h.host.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The node's conf with the client TLS block for `cert`, the script, and its STDIN. */
  const withTls = (cert: ReturnType<typeof issueNodeCertificate>) => {
    const tlsDir = tlsDirFor(node.host.paths.confDir, cert.certificate);
    const confText = [
      node.confText.trimEnd(),
      "",
      ...renderClientTls({ certFile: join(tlsDir, "cert.pem"), keyFile: join(tlsDir, "key.pem") }),
      "",
    ].join("\n");
    const script = renderNodeScript({
      natsVersion: release.version,
      natsSha256: release.sha256,
      confText,
      monitorUrl: node.monitorUrl,
      paths: node.host.paths,
      service: node.host.service,
      releaseBaseUrl: release.baseUrl,
      healthTimeoutSec: 60,
      stopTimeoutSec: 90,
      configOwner: "",
      tls: { dir: tlsDir, certificate: cert.certificate },
    });
    return { tlsDir, script, stdin: renderNodeStdin(node.secretsText, cert.privateKey) };
  };
  const certificate = () =>
    issueNodeCertificate({ authority, commonName: node.name, ips: ["127.0.0.1"], validityDays: 30 });
  const tlsClient = () =>
    connectNats({
      servers: node.url.replace(/^nats:/, "tls:"),
      user: "akira",
      password: node.secretsText.match(/CLIENT_PASSWORD: "([^"]+)"/)?.[1],
      tls: { ca: authority.certificate },
    });

  test("the key on STDIN, the certificate in the text: installed, validated, serving TLS only", async () => {
    const first = withTls(certificate());
    assert.ok(!first.script.includes("PRIVATE KEY"), "a private key in the command text");
    const run = await runNodeScript(first.script, first.stdin);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(
      run.stdout.includes(`akira-nats node: TLS certificate installed in ${first.tlsDir}\n`),
      run.stdout,
    );
    assert.equal(statSync(join(first.tlsDir, "key.pem")).mode & 0o777, 0o640);
    assert.ok(!run.stdout.includes("PRIVATE KEY") && !run.stderr.includes("PRIVATE KEY"));
    const nc = await tlsClient();
    assert.equal(nc.info?.tls_required, true);
    await nc.close();
  });

  test("a new certificate: a new directory, the node rolled onto it, the old one removed", async () => {
    const before = readdirSync(join(node.host.paths.confDir, "tls"));
    const second = withTls(certificate());
    const run = await runNodeScript(second.script, second.stdin);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /akira-nats node: changes: nats-server\.conf\n/);
    assert.deepEqual(readdirSync(join(node.host.paths.confDir, "tls")), [second.tlsDir.split("/").at(-1)]);
    assert.notDeepEqual(before, readdirSync(join(node.host.paths.confDir, "tls")));
    const nc = await tlsClient();
    await nc.close();
  });

  test("the key missing from STDIN: refused, nothing changed", async () => {
    const pid = node.host.pid();
    const third = withTls(certificate());
    const run = await runNodeScript(third.script, node.secretsText);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      `akira-nats node: the node's TLS key is expected on STDIN after the line '${TLS_KEY_MARKER}': nothing was changed\n`,
    );
    assert.equal(node.host.pid(), pid);
    assert.equal(existsSync(third.tlsDir), false);
  });
});
