import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { utils } from "ssh2";
import { ed25519KeyPair } from "../../components/ed25519KeyPair";

describe("throwaway keys - always valid", () => {
  // ssh2's own generator yields about 1 unparsable private key in 300: 1,500 pairs would hold
  // about 5 of them without the retry.
  it("1,500 pairs - every private and public key parses", () => {
    let unparsable = 0;
    for (let i = 0; i < 1500; i++) {
      const pair = ed25519KeyPair("akira-nats test");
      if (utils.parseKey(pair.private) instanceof Error || utils.parseKey(pair.public) instanceof Error)
        unparsable++;
    }
    assert.equal(unparsable, 0);
  });
});
