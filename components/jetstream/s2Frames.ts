/**
 * Counts the uncompressed bytes of an S2 stream (the `stream.tar.s2` a snapshot arrives as)
 * without decompressing it, so a backup's progress can be shown against the stream's size as
 * natscli does (it decompresses to count). S2 uses the Snappy framing format: frames of
 * `type (1 byte) | length (3 bytes, little endian) | body`; a compressed frame (0x00) has a 4-byte
 * CRC and a block that starts with its decoded length as a uvarint; an uncompressed frame (0x01)
 * holds a CRC and the data; every other type (stream identifier 0xff, padding, index) holds none.
 * Frames may be split across chunks at any byte.
 */
const COMPRESSED = 0x00;
const UNCOMPRESSED = 0x01;
const CRC_BYTES = 4;

export class S2UncompressedCounter {
  /** Uncompressed bytes of the frames seen so far. */
  uncompressed = 0;
  /** Body bytes of the current frame still to pass over. */
  private skip = 0;
  /** Header (and, for compressed frames, CRC and length prefix) of the current frame. */
  private head: number[] = [];

  push(data: Uint8Array): void {
    for (let i = 0; i < data.length; ) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.head.push(data[i] as number);
      i++;
      this.step();
    }
  }

  private step(): void {
    const h = this.head;
    if (h.length < 4) return;
    const type = h[0] as number;
    const len = (h[1] as number) | ((h[2] as number) << 8) | ((h[3] as number) << 16);
    const bodyRead = h.length - 4;
    if (type !== COMPRESSED) {
      if (type === UNCOMPRESSED) this.uncompressed += Math.max(0, len - CRC_BYTES);
      this.endFrame(len - bodyRead);
      return;
    }
    if (bodyRead === len) {
      this.endFrame(0);
      return;
    }
    if (bodyRead <= CRC_BYTES) return;
    // The uvarint ends at the first byte without the continuation bit.
    if (((h[h.length - 1] as number) & 0x80) !== 0) return;
    let value = 0;
    for (let k = 4 + CRC_BYTES, shift = 0; k < h.length; k++, shift += 7) {
      value += ((h[k] as number) & 0x7f) * 2 ** shift;
    }
    this.uncompressed += value;
    this.endFrame(len - bodyRead);
  }

  private endFrame(remaining: number): void {
    this.head = [];
    this.skip = Math.max(0, remaining);
  }
}
