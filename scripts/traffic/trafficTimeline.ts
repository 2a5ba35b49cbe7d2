/**
 * Per-second samples and publish gaps of a traffic run: what the SVG timeline draws and what the
 * failover figures (longest time without an ack) are computed from.
 */

export interface TrafficSample {
  /** Start of this one-second bucket, epoch milliseconds. */
  readonly t: number;
  /** Messages sent for the first time in this second. */
  readonly published: number;
  /** Messages whose ack arrived in this second. */
  readonly acked: number;
  /** Messages that finally failed (every retry failed) in this second. */
  readonly failed: number;
  /** Median latency from first send to ack of the messages acked in this second (0 if none). */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** A stretch without any ack while publishing was active (pauses excluded). */
export interface PublishGap {
  readonly fromMs: number;
  readonly toMs: number;
}

/** Gaps shorter than this are normal spacing between acks and not kept in the list. */
const GAP_KEEP_MS = 200;

export class TrafficTimeline {
  private readonly done: TrafficSample[] = [];
  private bucketStart: number | undefined;
  private current = { published: 0, acked: 0, failed: 0, latencies: [] as number[] };
  private readonly gaps: PublishGap[] = [];
  private anchor: number | undefined;
  private maxGap = 0;
  private frozenAt: number | undefined;

  published(now = Date.now()): void {
    this.bucket(now).published++;
  }

  acked(latencyMs: number, now = Date.now()): void {
    const b = this.bucket(now);
    b.acked++;
    b.latencies.push(latencyMs);
    this.closeGap(now);
    if (this.anchor !== undefined) this.anchor = now;
  }

  failed(now = Date.now()): void {
    this.bucket(now).failed++;
  }

  /** Publishing became active (start, resume): the gap clock starts now. */
  activate(now = Date.now()): void {
    this.anchor ??= now;
  }

  /** Publishing is deliberately idle (paused and drained, stopped, or done): no gap counts. */
  deactivate(now = Date.now()): void {
    this.closeGap(now);
    this.anchor = undefined;
  }

  /** Longest gap so far, the ongoing one included. */
  maxPublishGapMs(now = Date.now()): number {
    return Math.max(this.maxGap, this.anchor === undefined ? 0 : now - this.anchor);
  }

  /** Longest part of any gap that lies within [from, to], the ongoing one included. */
  maxGapBetween(from: number, to: number, now = Date.now()): number {
    const all = this.anchor === undefined ? this.gaps : [...this.gaps, { fromMs: this.anchor, toMs: now }];
    let max = 0;
    for (const g of all) {
      const overlap = Math.min(g.toMs, to) - Math.max(g.fromMs, from);
      if (overlap > max) max = overlap;
    }
    return max;
  }

  gapList(): readonly PublishGap[] {
    return this.gaps;
  }

  /** The traffic stopped: later calls to {@link samples} add no empty seconds after this. */
  freeze(now = Date.now()): void {
    this.frozenAt ??= now;
  }

  /** Every completed second, plus the running one. */
  samples(now = Date.now()): TrafficSample[] {
    if (this.bucketStart === undefined) return [];
    this.bucket(Math.min(now, this.frozenAt ?? now));
    return [...this.done, this.summarize(this.bucketStart as number)];
  }

  private closeGap(now: number): void {
    if (this.anchor === undefined) return;
    const gap = now - this.anchor;
    if (gap > this.maxGap) this.maxGap = gap;
    if (gap >= GAP_KEEP_MS) this.gaps.push({ fromMs: this.anchor, toMs: now });
  }

  private bucket(now: number) {
    if (this.bucketStart === undefined) this.bucketStart = now;
    while (now >= (this.bucketStart as number) + 1000) {
      this.done.push(this.summarize(this.bucketStart as number));
      this.bucketStart = (this.bucketStart as number) + 1000;
      this.current = { published: 0, acked: 0, failed: 0, latencies: [] };
    }
    return this.current;
  }

  private summarize(t: number): TrafficSample {
    const sorted = [...this.current.latencies].sort((a, b) => a - b);
    return {
      t,
      published: this.current.published,
      acked: this.current.acked,
      failed: this.current.failed,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
    };
  }
}

/** Nearest-rank percentile of an ascending list; 0 for an empty one. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}
