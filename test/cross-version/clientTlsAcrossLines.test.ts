/**
 * Client TLS on every supported server line (the pinned one, 2.10 and the oldest pilot line): a
 * real nats-server with the config the renderer writes accepts a client that trusts the
 * project's authority, refuses one that trusts another authority, and refuses a plaintext client
 * (the GA setting); with the pilot's transition setting it takes both.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connectNats } from "../../components/jetstream/connection";
import { TlsError } from "../../components/jetstream/errors";
import { DEBIAN_BUILDS, OLDEST_PILOT_NATS_VERSION } from "../../components/jetstream/serverLines";
import { issueAuthority, issueNodeCertificate } from "../../components/tls/certificates";
import type { LocalDeployment } from "../../scripts/local/localNats";
import { natsServerBinFor } from "../../scripts/local/natsServerBin";
import { startPilot } from "../helpers/testServers";

const LINES = [...Object.keys(DEBIAN_BUILDS), OLDEST_PILOT_NATS_VERSION];
const AUTHORITY = issueAuthority("akira-nats test authority", 30);
const STRANGER = issueAuthority("some other authority", 30);

/** What a plaintext client gets: the server's first words after it sends CONNECT without TLS. */
function plaintextAttempt(url: string, password: string): Promise<string> {
  const { hostname, port } = new URL(url.replace(/^\w+:/, "http:"));
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(port), hostname);
    let seen = "";
    socket.setTimeout(5000, () => {
      socket.destroy();
      resolve(seen);
    });
    socket.on("data", (d) => {
      seen += String(d);
      if (seen.startsWith("INFO") && !seen.includes("CONNECT_SENT")) {
        seen += "CONNECT_SENT\n";
        const connect = JSON.stringify({ verbose: false, pedantic: false, user: "akira", pass: password });
        socket.write(`CONNECT ${connect}\r\nPING\r\n`);
      }
    });
    socket.on("close", () => resolve(seen));
    socket.on("error", reject);
  });
}

const client = (d: LocalDeployment, extra: object = {}) => ({
  servers: d.servers,
  user: d.user,
  password: d.secrets.clientPassword,
  timeoutMs: 3000,
  ...extra,
});

for (const version of LINES) {
  describe(`client TLS on nats-server ${version}`, () => {
    it("GA setting: the project's authority is trusted, another is refused, plaintext is refused", async (t) => {
      const pilot = await startPilot(t, {
        natsServerBin: natsServerBinFor(version),
        tls: { authority: AUTHORITY },
      });
      assert.match(pilot.servers, /^tls:\/\//);
      const nc = await connectNats(client(pilot, { tls: { ca: AUTHORITY.certificate } }));
      assert.equal(nc.info?.version, version);
      assert.equal(nc.info?.tls_required, true);
      await nc.jetstreamManager();
      await nc.close();

      const refused = await connectNats(client(pilot, { tls: { ca: STRANGER.certificate } })).catch((e) => e);
      assert.ok(refused instanceof TlsError, String(refused));
      assert.equal(
        refused.message,
        `TLS with NATS at ${pilot.servers} failed (unable to verify the first certificate): trust the cluster's authority (--tlsca <file> or NATS_CA; for the stacks, the output caCertificate) and connect by an address its certificate names`,
      );

      const plain = await plaintextAttempt(pilot.servers, pilot.secrets.clientPassword);
      assert.match(plain, /^INFO .*"tls_required":true/);
      assert.doesNotMatch(plain, /^PONG\r$/m, "a plaintext client was served");
    });

    it("transition setting (allow_non_tls): TLS clients and plaintext clients both work", async (t) => {
      const pilot = await startPilot(t, {
        natsServerBin: natsServerBinFor(version),
        tls: { authority: AUTHORITY, allowNonTls: true },
      });
      assert.match(pilot.servers, /^nats:\/\//);
      const secure = await connectNats(client(pilot, { tls: { ca: AUTHORITY.certificate } }));
      await secure.close();
      const plain = await connectNats(client(pilot));
      assert.equal(plain.info?.tls_required, undefined);
      await plain.close();
      // The same raw plaintext client the GA setting refuses is served here: the check can fail.
      assert.match(await plaintextAttempt(pilot.servers, pilot.secrets.clientPassword), /^PONG\r$/m);
    });
  });
}

describe("a certificate that names another address", () => {
  it("is refused even though the authority signed it", async (t) => {
    // Signed by the trusted authority, but for 127.0.0.9 only: the server at 127.0.0.1 presents it.
    const pilot = await startPilot(t, { tls: { authority: AUTHORITY } });
    const node = pilot.nodes[0];
    assert.ok(node);
    const wrong = issueNodeCertificate({
      authority: AUTHORITY,
      commonName: "elsewhere",
      ips: ["127.0.0.9"],
      validityDays: 1,
    });
    writeFileSync(join(node.dir, "tls", "cert.pem"), wrong.certificate);
    writeFileSync(join(node.dir, "tls", "key.pem"), wrong.privateKey);
    await node.stop();
    await node.start();
    const err = await connectNats(client(pilot, { tls: { ca: AUTHORITY.certificate } })).catch((e) => e);
    assert.ok(err instanceof TlsError, String(err));
    assert.equal(
      err.message,
      `TLS with NATS at ${pilot.servers} failed (the certificate names DNS:elsewhere, IP Address:127.0.0.9, none of 127.0.0.1): trust the cluster's authority (--tlsca <file> or NATS_CA; for the stacks, the output caCertificate) and connect by an address its certificate names`,
    );
  });
});

describe("tls:// to a server without TLS", () => {
  it("is refused, never used in plaintext", async (t) => {
    const pilot = await startPilot(t);
    const url = pilot.servers.replace(/^nats:/, "tls:");
    const err = await connectNats({
      servers: url,
      user: pilot.user,
      password: pilot.secrets.clientPassword,
      timeoutMs: 3000,
    }).catch((e) => e);
    assert.ok(err instanceof TlsError, String(err));
    assert.equal(
      err.message,
      `NATS at ${url} does not offer TLS, which a tls:// URL or a TLS option requires: nothing was sent; use nats:// for a server that runs without TLS`,
    );
  });
});
