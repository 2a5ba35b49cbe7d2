/**
 * ed25519 key pairs in OpenSSH format: the GA nodes' SSH host keys (nodeHostKey.ts), and the
 * throwaway keys of the rehearsal and the tests. The private key is encoded here, from the seed
 * Node's own generator returns, in the `openssh-key-v1` layout OpenSSH writes (PROTOCOL.key):
 * ssh2's generator produced about 1 private key in 300 that ssh2's own parser rejects (measured:
 * 10 of 3,000), and OpenSSH's sshd refused some of its keys as host keys ("error in libcrypto").
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { sshFingerprint } from "./adminTunnel";

export interface KeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` … (unencrypted). */
  readonly private: string;
  /** `ssh-ed25519 AAAA… comment`. */
  readonly public: string;
}

const KEY_TYPE = "ssh-ed25519";

/** An SSH wire-format string: uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function ed25519KeyPair(comment: string): KeyPair {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const seed = Buffer.from(jwk.d as string, "base64url");
  const pub = Buffer.from(jwk.x as string, "base64url");
  const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);
  const check = randomBytes(4).readUInt32BE();
  let section = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString(KEY_TYPE),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  // Padded to the cipher block size ("none": 8) with 1, 2, 3, …
  const padding = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: padding }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(publicBlob),
    sshString(section),
  ]);
  const lines = body.toString("base64").match(/.{1,70}/g) ?? [];
  return {
    private: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`,
    public: `${KEY_TYPE} ${publicBlob.toString("base64")} ${comment}`,
  };
}

/**
 * The `SHA256:<base64>` fingerprint of an OpenSSH public key line (`ssh-ed25519 AAAA… comment`),
 * as `ssh-keygen -l` prints it and the admin tunnel pins it.
 */
export function publicKeyFingerprint(line: string): string {
  return sshFingerprint(Buffer.from(line.trim().split(/\s+/)[1] ?? "", "base64"));
}

/** The key type of an OpenSSH public key line (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …). */
export function publicKeyType(line: string): string {
  return line.trim().split(/\s+/)[0] ?? "";
}
