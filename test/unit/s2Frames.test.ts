import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { S2UncompressedCounter } from "../../components/jetstream/s2Frames";

function frame(type: number, body: number[]): number[] {
  return [type, body.length & 0xff, (body.length >> 8) & 0xff, (body.length >> 16) & 0xff, ...body];
}

const crc = [1, 2, 3, 4];
// Stream identifier, an uncompressed frame of 100 bytes, a compressed frame decoding to 300
// (uvarint 0xac 0x02) and one decoding to 70000 (0xf0 0xa2 0x04), padding.
const stream = Uint8Array.from([
  ...frame(0xff, [...Buffer.from("S2sTwO")]),
  ...frame(0x01, [...crc, ...new Array(100).fill(7)]),
  ...frame(0x00, [...crc, 0xac, 0x02, 9, 9, 9, 9, 9]),
  ...frame(0x00, [...crc, 0xf0, 0xa2, 0x04, 1, 2, 3]),
  ...frame(0xfe, [0, 0, 0]),
]);

describe("S2UncompressedCounter - uncompressed size from frame headers", () => {
  it("whole stream at once", () => {
    const c = new S2UncompressedCounter();
    c.push(stream);
    assert.equal(c.uncompressed, 100 + 300 + 70000);
  });

  it("split at every possible byte", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const c = new S2UncompressedCounter();
      c.push(stream.subarray(0, cut));
      c.push(stream.subarray(cut));
      assert.equal(c.uncompressed, 70400, `cut at ${cut}`);
    }
  });

  it("one byte at a time", () => {
    const c = new S2UncompressedCounter();
    for (const b of stream) c.push(Uint8Array.of(b));
    assert.equal(c.uncompressed, 70400);
  });
});
