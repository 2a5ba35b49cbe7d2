/**
 * With known secret values in the stack config, nothing the program hands the engine holds them in
 * plaintext: no resource input (command text, user data, the dynamic provider's serialized
 * `__provider` included), no stack output, no log line. What must carry a secret carries it as a
 * Pulumi secret.
 */

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ed25519KeyPair } from "../../components/cluster/ed25519KeyPair";
import {
  isSecret,
  KNOWN_SECRETS,
  type ProgramRun,
  type RecordedResource,
  runProgram,
  stackConfig,
  unwrap,
} from "../helpers/pulumiMocks";

const keys = (() => {
  const pair = ed25519KeyPair("akira-nats-secrets-test");
  return { privateKey: pair.private, publicKey: pair.public };
})();

/** Every secret, and the forms it could leak in (URL-encoded in route URLs, the key's base64 body). */
const NEEDLES: readonly string[] = [
  ...Object.values(KNOWN_SECRETS).flatMap((s) => [s, encodeURIComponent(s)]),
  keys.privateKey,
  ...keys.privateKey.split("\n").filter((line) => line.length > 20 && !line.startsWith("-----")),
];

/** The inputs with every secret-wrapped value replaced: what is stored and shown in plaintext. */
function plaintextPart(value: unknown): unknown {
  if (isSecret(value)) return "[secret]";
  if (Array.isArray(value)) return value.map(plaintextPart);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plaintextPart(v)]));
  }
  return value;
}

function leaks(text: string): string[] {
  return NEEDLES.filter((needle) => text.includes(needle)).map((n) => `${n.slice(0, 6)}…`);
}

/** Runs the program while recording everything written to stdout/stderr (the program's log). */
async function runCapturingLog(stack: "staging" | "ga"): Promise<{ run: ProgramRun; log: string }> {
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const tee =
    (write: typeof out) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      chunks.push(String(chunk));
      return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = tee(out) as typeof process.stdout.write;
  process.stderr.write = tee(err) as typeof process.stderr.write;
  try {
    const run = await runProgram(stack, stackConfig(stack, keys));
    return { run, log: chunks.join("") };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

for (const stack of ["ga", "staging"] as const) {
  describe(`secrets - ${stack} stack`, () => {
    let run: ProgramRun;
    let log: string;
    before(async () => {
      ({ run, log } = await runCapturingLog(stack));
    });

    it("the fixture really holds the secrets (the search can find them)", () => {
      const command = run.mocks.ofType("command:remote:Command")[0] as RecordedResource;
      assert.ok(JSON.stringify(command.inputs).includes(KNOWN_SECRETS.clientPassword));
    });

    it("no resource input holds a secret in plaintext", () => {
      for (const r of run.mocks.resources) {
        assert.deepEqual(leaks(JSON.stringify(plaintextPart(r.inputs))), [], `${r.type} ${r.name}`);
        // No private key of any kind (the login key, a node's host key) outside a secret.
        assert.doesNotMatch(JSON.stringify(plaintextPart(r.inputs)), /PRIVATE KEY/, `${r.type} ${r.name}`);
      }
      // A generated host key's private half is a secret output, encrypted in state.
      for (const k of run.mocks.ofType("pulumi-nodejs:dynamic/akira/ssh:HostKey")) {
        assert.deepEqual(k.additionalSecretOutputs, ["privateKey"], k.name);
      }
      // So are the TLS private keys: the authority's, and each node's (whose input, the
      // authority's key, is a secret too).
      for (const k of run.mocks.ofType("pulumi-nodejs:dynamic/akira/tls:Authority")) {
        assert.deepEqual(k.additionalSecretOutputs, ["privateKey"], k.name);
      }
      for (const k of run.mocks.ofType("pulumi-nodejs:dynamic/akira/tls:NodeCertificate")) {
        assert.deepEqual(k.additionalSecretOutputs, ["privateKey", "authorityPrivateKey"], k.name);
        assert.ok(isSecret(k.inputs.authorityPrivateKey), k.name);
      }
    });

    it("command text, user data and the dynamic provider's __provider are clean", () => {
      for (const c of run.mocks.ofType("command:remote:Command")) {
        assert.equal(typeof c.inputs.create, "string", "command text is plaintext by design");
        assert.deepEqual(leaks(c.inputs.create as string), [], c.name);
      }
      for (const s of run.mocks.ofType("hcloud:index/server:Server")) {
        // The user data carries the node's private host key, so it is a secret as a whole.
        assert.ok(isSecret(s.inputs.userData), s.name);
        // Inside it, no password and not the login key (every OpenSSH private key shares its first
        // base64 characters, so the login key is looked for by a line of its own).
        const userData = JSON.stringify(unwrap(s.inputs.userData));
        for (const secret of Object.values(KNOWN_SECRETS)) assert.ok(!userData.includes(secret), s.name);
        assert.ok(!userData.includes(keys.privateKey.split("\n")[2] as string), s.name);
      }
      for (const c of run.mocks.ofType("command:remote:Command")) {
        assert.doesNotMatch(c.inputs.create as string, /PRIVATE KEY/, c.name);
      }
      const dynamic = run.mocks.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
      assert.equal(
        dynamic.length,
        stack === "ga" ? 9 : 1,
        "the stream (and on ga the guard, 3 host keys, the TLS authority and 3 node certificates)",
      );
      for (const d of dynamic) {
        assert.equal(typeof d.inputs.__provider, "string");
        assert.deepEqual(leaks(d.inputs.__provider as string), [], d.name);
      }
    });

    it("secret-bearing inputs are marked secret", () => {
      for (const c of run.mocks.ofType("command:remote:Command")) {
        assert.ok(isSecret(c.inputs.stdin), `${c.name} stdin`);
        const connection = c.inputs.connection;
        const privateKey = isSecret(connection)
          ? true
          : isSecret((connection as Record<string, unknown>).privateKey);
        assert.ok(privateKey, `${c.name} connection.privateKey`);
      }
    });

    it("no output holds a secret, and no output is itself secret", async () => {
      assert.deepEqual(leaks(JSON.stringify(run.outputs)), []);
      for (const [key, value] of Object.entries(run.exports)) {
        const secret =
          typeof value === "object" && value !== null && "isSecret" in value
            ? await (value as { isSecret: Promise<boolean> }).isSecret
            : false;
        assert.equal(secret, false, key);
      }
    });

    it("nothing logged holds a secret", () => {
      assert.deepEqual(leaks(log), []);
    });
  });
}
