/**
 * Client TLS as the program manages it: certificates that name every address of a node, the
 * renewal a certificate near its expiry plans at preview, a renewed certificate rolling its node
 * alone (the chain rolls the rest of the cluster as usual), and the pilot's opt-in transition.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import { ed25519KeyPair } from "../../components/cluster/ed25519KeyPair";
import { issueAuthority, issueNodeCertificate, renewalDue } from "../../components/tls/certificates";
import {
  createTlsAuthorityProvider,
  createTlsNodeCertificateProvider,
} from "../../components/tls/tlsResources";
import {
  mockCertificate,
  renewMockCertificate,
  runProgram,
  stackConfig,
  unwrap,
} from "../helpers/pulumiMocks";

const keys = (() => {
  const pair = ed25519KeyPair("akira-nats-tls-test");
  return { privateKey: pair.private, publicKey: pair.public };
})();
const AUTHORITY = issueAuthority("akira-ga client TLS authority", 3650);

describe("certificates - what a node's certificate says", () => {
  it("signed by the authority, naming the node and each address, for server use only", () => {
    const now = new Date("2026-12-04T00:00:00Z");
    const cert = issueNodeCertificate({
      authority: AUTHORITY,
      commonName: "akira-ga-1",
      ips: ["10.0.0.11", "203.0.113.7", "127.0.0.1"],
      validityDays: 365,
      now,
    });
    const x = new X509Certificate(cert.certificate);
    assert.equal(
      x.subjectAltName,
      "DNS:akira-ga-1, IP Address:10.0.0.11, IP Address:203.0.113.7, IP Address:127.0.0.1",
    );
    assert.ok(x.verify(new X509Certificate(AUTHORITY.certificate).publicKey));
    assert.equal(x.ca, false);
    assert.deepEqual(x.keyUsage, ["1.3.6.1.5.5.7.3.1"]);
    assert.equal(cert.notAfter, "2027-12-04T00:00:00.000Z");
    assert.equal(new X509Certificate(AUTHORITY.certificate).ca, true);
  });

  it("renewal is due inside the window and not before", () => {
    const cert = issueNodeCertificate({
      authority: AUTHORITY,
      commonName: "n",
      ips: ["10.0.0.11"],
      validityDays: 40,
    });
    assert.equal(renewalDue(cert.certificate, 30), false);
    assert.equal(renewalDue(cert.certificate, 30, new Date(Date.now() + 11 * 86_400_000)), true);
  });
});

describe("certificate resources - renewal planned at preview", () => {
  const inputs = (validityDays: number) => ({
    node: "akira-ga-2",
    ips: ["10.0.0.12", "203.0.113.8", "127.0.0.1"],
    authorityCertificate: AUTHORITY.certificate,
    authorityPrivateKey: AUTHORITY.privateKey,
    validityDays,
    renewBeforeDays: 30,
  });

  it("a node certificate within 30 days of expiry: replaced; far from it: untouched", async () => {
    const provider = createTlsNodeCertificateProvider();
    const soon = (await provider.create(inputs(20))).outs as NonNullable<
      Awaited<ReturnType<typeof provider.create>>["outs"]
    >;
    const later = (await provider.create(inputs(365))).outs as NonNullable<
      Awaited<ReturnType<typeof provider.create>>["outs"]
    >;
    assert.deepEqual(await provider.diff?.("id", soon, inputs(365)), {
      changes: true,
      replaces: ["certificate"],
      deleteBeforeReplace: false,
    });
    assert.deepEqual(await provider.diff?.("id", later, inputs(365)), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("a new address or a new authority: a new certificate naming it", async () => {
    const provider = createTlsNodeCertificateProvider();
    const cert = (await provider.create(inputs(365))).outs as NonNullable<
      Awaited<ReturnType<typeof provider.create>>["outs"]
    >;
    assert.deepEqual(
      await provider.diff?.("id", cert, { ...inputs(365), ips: ["10.0.0.12", "203.0.113.9", "127.0.0.1"] }),
      {
        changes: true,
        replaces: ["ips"],
        deleteBeforeReplace: false,
      },
    );
    const other = issueAuthority("renewed authority", 3650);
    assert.deepEqual(
      await provider.diff?.("id", cert, { ...inputs(365), authorityCertificate: other.certificate }),
      { changes: true, replaces: ["authorityCertificate"], deleteBeforeReplace: false },
    );
  });

  it("the authority renews by the same rule", async () => {
    const provider = createTlsAuthorityProvider();
    const created = await provider.create({ commonName: "a", validityDays: 10, renewBeforeDays: 30 });
    const authority = created.outs as NonNullable<typeof created.outs>;
    assert.deepEqual(
      await provider.diff?.("id", authority, { commonName: "a", validityDays: 3650, renewBeforeDays: 30 }),
      {
        changes: true,
        replaces: ["certificate"],
        deleteBeforeReplace: false,
      },
    );
  });
});

describe("program - a renewed certificate rolls its node alone", () => {
  it("node 2's new certificate changes node 2's command text and stdin, nothing else", async () => {
    const before = await runProgram("ga", stackConfig("ga", keys));
    const text = (r: typeof before) =>
      r.mocks.ofType("command:remote:Command").map((c) => unwrap(c.inputs.create));
    const stdin = (r: typeof before) =>
      r.mocks.ofType("command:remote:Command").map((c) => unwrap(c.inputs.stdin));
    const old = mockCertificate("nats-akira-ga-2-tls");
    renewMockCertificate("nats-akira-ga-2-tls");
    const after = await runProgram("ga", stackConfig("ga", keys));
    assert.notEqual(mockCertificate("nats-akira-ga-2-tls")?.certificate, old?.certificate);
    const [b, a] = [text(before), text(after)];
    assert.deepEqual([b[0] === a[0], b[1] === a[1], b[2] === a[2]], [true, false, true]);
    const [sb, sa] = [stdin(before), stdin(after)];
    assert.deepEqual([sb[0] === sa[0], sb[1] === sa[1], sb[2] === sa[2]], [true, false, true]);
    // The servers are untouched: a renewal is a config change, rolled by the chained commands.
    const servers = (r: typeof before) =>
      r.mocks.ofType("hcloud:index/server:Server").map((s) => JSON.stringify(unwrap(s.inputs)));
    assert.deepEqual(
      servers(before)
        .slice(0, 3)
        .map((x, i) => x === servers(after)[i]),
      [true, true, true],
    );
  });
});

describe("program - the pilot's opt-in client TLS", () => {
  it("pilotClientTls: TLS with plain clients still accepted, the authority exported, natsUrl unchanged", async () => {
    const run = await runProgram("staging", stackConfig("staging", keys, { pilotClientTls: "true" }));
    const command = run.mocks.ofType("command:remote:Command")[0];
    const text = unwrap(command?.inputs.create) as string;
    assert.match(text, /^allow_non_tls: true$/m);
    assert.match(text, /^ {2}cert_file: "\/etc\/nats\/tls\/[0-9a-f]{16}\/cert\.pem"$/m);
    assert.equal(run.outputs.natsUrl, "nats://95.216.10.20:4222");
    assert.equal(run.outputs.caCertificate, mockCertificate("pilot-tls-authority")?.certificate);
    const cert = new X509Certificate(mockCertificate("pilot-tls")?.certificate ?? "");
    assert.equal(
      cert.subjectAltName,
      "DNS:akira-cache-01-staging, IP Address:95.216.10.20, IP Address:127.0.0.1",
    );
  });
});
