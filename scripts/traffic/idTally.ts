/**
 * Counts how often each message id was seen, memory-bounded: ids of the form `<prefix>-<n>` (every
 * id {@link cdrRecord} makes) cost one byte per counter value in a growable bitmap per prefix, so a
 * million ids take about 1 MB instead of ~100 MB of strings. Other ids fall back to a Map.
 */

const COUNTED_ID = /^(.+)-(\d{1,9})$/;

export class IdTally {
  private readonly byPrefix = new Map<string, Uint8Array>();
  private readonly other = new Map<string, number>();
  /** Distinct ids seen at least once. */
  distinct = 0;
  /** Sightings beyond the first, summed over all ids. */
  duplicates = 0;

  /** Records one sighting; returns how often the id had been seen before (capped at 255). */
  add(id: string): number {
    const before = this.countOf(id);
    this.set(id, Math.min(255, before + 1));
    if (before === 0) this.distinct++;
    else this.duplicates++;
    return before;
  }

  /** How often `id` was seen (capped at 255). */
  countOf(id: string): number {
    const m = COUNTED_ID.exec(id);
    if (m === null) return this.other.get(id) ?? 0;
    const bits = this.byPrefix.get(m[1] as string);
    const n = Number(m[2]);
    return bits !== undefined && n < bits.length ? (bits[n] as number) : 0;
  }

  has(id: string): boolean {
    return this.countOf(id) > 0;
  }

  private set(id: string, count: number): void {
    const m = COUNTED_ID.exec(id);
    if (m === null) {
      this.other.set(id, count);
      return;
    }
    const prefix = m[1] as string;
    const n = Number(m[2]);
    let bits = this.byPrefix.get(prefix);
    if (bits === undefined || n >= bits.length) {
      const grown = new Uint8Array(Math.max(1024, (n + 1) * 2));
      if (bits !== undefined) grown.set(bits);
      bits = grown;
      this.byPrefix.set(prefix, bits);
    }
    bits[n] = count;
  }
}
