/**
 * ed25519 key pairs in OpenSSH format that ssh2's own parser accepts: the GA nodes' SSH host keys
 * (sshHostKey.ts), and the throwaway keys of the rehearsal and the tests. ssh2's generator produces
 * about 1 private key in 300 that ssh2's own parser then rejects (measured: 10 of 3,000), which made
 * the rehearsal's preflight and config tests fail at random: a pair is generated again until its
 * private key parses.
 */
import { createHash } from "node:crypto";
import { utils } from "ssh2";

export interface KeyPair {
  readonly private: string;
  readonly public: string;
}

export function ed25519KeyPair(comment: string): KeyPair {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = utils.generateKeyPairSync("ed25519", { comment });
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error))
      return pair;
  }
  throw new Error("ssh2 generated 20 ed25519 keys in a row that it cannot parse");
}

/**
 * The `SHA256:<base64>` fingerprint of an OpenSSH public key line (`ssh-ed25519 AAAA… comment`),
 * as `ssh-keygen -l` prints it and the admin tunnel pins it.
 */
export function publicKeyFingerprint(line: string): string {
  const blob = line.trim().split(/\s+/)[1] ?? "";
  const digest = createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}
