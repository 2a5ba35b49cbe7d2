/**
 * The CLI speaks TLS as natscli does: --tlsca/--tlscert/--tlskey and NATS_CA/NATS_CERT/NATS_KEY,
 * `tls://` enforced, every failure one line naming what to do.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectNats } from "../../components/jetstream/connection";
import { issueAuthority } from "../../components/tls/certificates";
import type { LocalDeployment } from "../../scripts/local/localNats";
import { runCli } from "../helpers/runCli";
import { startPilot, tempDir } from "../helpers/testServers";

describe("akira-nats over client TLS (pilot with TLS)", () => {
  let secure: LocalDeployment;
  let plain: LocalDeployment;
  let caFile: string;
  const hooks: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => hooks.push(fn) };
  const authority = issueAuthority("akira-nats cli test", 30);

  before(async () => {
    secure = await startPilot(t, { tls: { authority } });
    plain = await startPilot(t);
    caFile = join(tempDir(t), "ca.pem");
    writeFileSync(caFile, authority.certificate);
    const nc = await connectNats({
      servers: secure.servers,
      user: secure.user,
      password: secure.secrets.clientPassword,
      tls: { ca: authority.certificate },
    });
    await (await nc.jetstreamManager()).streams.add({ name: "TLS_CDR", subjects: ["tls.cdr.>"] });
    await nc.close();
  });
  after(async () => {
    for (const h of hooks.reverse()) await h();
  });

  const env = (d: LocalDeployment) => ({
    NATS_URL: d.servers,
    NATS_USER: d.user,
    NATS_PASSWORD: d.secrets.clientPassword,
  });

  it("--tlsca (and NATS_CA) - the stream list over TLS", async () => {
    const r = await runCli(["stream", "ls", "--json", "--tlsca", caFile], env(secure));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).map((s: { config: { name: string } }) => s.config.name),
      ["TLS_CDR"],
    );
    const viaEnv = await runCli(["stream", "ls", "--json"], { ...env(secure), NATS_CA: caFile });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
  });

  it("without the authority - refused in one line that says what to trust", async () => {
    const r = await runCli(["stream", "ls"], env(secure));
    assert.deepEqual(
      [r.code, r.stdout, r.stderr],
      [
        1,
        "",
        `akira-nats: TLS with NATS at ${secure.servers} failed (unable to verify the first certificate): trust the cluster's authority (--tlsca <file> or NATS_CA; for the stacks, the output caCertificate) and connect by an address its certificate names\n`,
      ],
    );
  });

  it("tls:// or --tlsca to a server without TLS - refused, nothing sent in plaintext", async () => {
    const url = plain.servers.replace(/^nats:/, "tls:");
    const r = await runCli(["stream", "ls", "-s", url], env(plain));
    assert.deepEqual(
      [r.code, r.stderr],
      [
        1,
        `akira-nats: NATS at ${url} does not offer TLS, which a tls:// URL or a TLS option requires: nothing was sent; use nats:// for a server that runs without TLS\n`,
      ],
    );
    const withCa = await runCli(["stream", "ls", "--tlsca", caFile], env(plain));
    assert.equal(withCa.code, 1);
    assert.match(withCa.stderr, /does not offer TLS, which a tls:\/\/ URL or a TLS option requires/);
  });

  it("bad TLS flags - named, nothing attempted", async () => {
    const missing = await runCli(["stream", "ls", "--tlsca", "/nonexistent/ca.pem"], env(secure));
    assert.deepEqual(
      [missing.code, missing.stderr],
      [1, "akira-nats: --tlsca /nonexistent/ca.pem: cannot read it (ENOENT)\n"],
    );
    const half = await runCli(["stream", "ls", "--tlscert", caFile], env(secure));
    assert.deepEqual(
      [half.code, half.stderr],
      [1, "akira-nats: --tlscert and --tlskey (NATS_CERT, NATS_KEY) go together: give both or neither\n"],
    );
  });
});
