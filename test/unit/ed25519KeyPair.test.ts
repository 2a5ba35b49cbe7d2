import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { utils } from "ssh2";
import { ed25519KeyPair, publicKeyFingerprint } from "../../components/cluster/ed25519KeyPair";

const hasKeygen = spawnSync("ssh-keygen", ["-?"]).error === undefined;

describe("ed25519 key pairs - always valid", () => {
  it("1,500 pairs - every private and public key parses, and the halves belong together", () => {
    let bad = 0;
    for (let i = 0; i < 1500; i++) {
      const pair = ed25519KeyPair("akira-nats test");
      const priv = utils.parseKey(pair.private);
      const pub = utils.parseKey(pair.public);
      if (priv instanceof Error || pub instanceof Error) bad++;
      else if (
        !(priv as { getPublicSSH(): Buffer })
          .getPublicSSH()
          .equals((pub as { getPublicSSH(): Buffer }).getPublicSSH())
      )
        bad++;
    }
    assert.equal(bad, 0);
  });

  it("100 private keys - OpenSSH's ssh-keygen reads each back to its public key and fingerprint", {
    skip: hasKeygen ? undefined : "no ssh-keygen",
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "akira-keys-"));
    for (let i = 0; i < 100; i++) {
      const pair = ed25519KeyPair(`node-${i}`);
      const file = join(dir, `key${i}`);
      writeFileSync(file, pair.private, { mode: 0o600 });
      const derived = spawnSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" });
      assert.equal(derived.status, 0, derived.stderr);
      assert.equal(derived.stdout.trim(), pair.public);
      writeFileSync(`${file}.pub`, `${pair.public}\n`);
      const listed = spawnSync("ssh-keygen", ["-l", "-f", `${file}.pub`], { encoding: "utf8" });
      assert.equal(listed.stdout.split(" ")[1], publicKeyFingerprint(pair.public));
    }
  });
});
