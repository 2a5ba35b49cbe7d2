/**
 * A CDR publisher (and optionally a consumer) standing in for the AKIRA applications during the
 * rehearsal, the failover test and the tests: paced JetStream publishes with acks, a bounded number
 * in flight, and retries with the same `Nats-Msg-Id` while the cluster fails over, so the stream's
 * duplicate window turns a retried-but-already-stored publish into a `duplicate` ack, never a
 * second copy.
 */
import type { JetStreamClient, NatsConnection } from "nats";
import { type ConnectionTarget, connectNats } from "../../components/jetstream/connection";
import { CdrConsumer } from "./cdrConsumer";
import { cdrRecord, newRunId } from "./cdrRecord";
import { type PublishGap, type TrafficSample, TrafficTimeline } from "./trafficTimeline";

export type { PublishGap, TrafficSample };

export interface CdrTrafficOptions {
  readonly target: ConnectionTarget;
  /** Subjects are `<prefix>.<customerId>`. Default `akira.cdr`. */
  readonly subjectPrefix?: string;
  /** Messages per second (first attempts). */
  readonly ratePerSec: number;
  /** Stop issuing after this many messages. Default unlimited. */
  readonly maxMessages?: number;
  /** A durable pull consumer that acks everything and counts; `false`/absent for none. */
  readonly consumer?:
    | { readonly stream: string; readonly durable?: string; readonly deliverPolicy?: "new" | "all" }
    | false;
  /** How long one publish waits for its ack before it is retried. Default 2000 ms. */
  readonly ackTimeoutMs?: number;
  /** Publishes awaiting their ack at most. Default 128. */
  readonly maxInFlight?: number;
  /**
   * How long a message is retried before it counts as finally failed. Default 60 000 ms: longer
   * than a leader election (a few seconds), shorter than the stream's 2-minute duplicate window,
   * so a retry can never store a second copy.
   */
  readonly retryForMs?: number;
  /** Message ids are `<runId>-<n>`. Default random. */
  readonly runId?: string;
}

export interface TrafficStats {
  /** Distinct messages sent (first attempts). */
  readonly published: number;
  /** Distinct messages acknowledged by the stream (duplicate acks of a retry included once). */
  readonly acked: number;
  /** Messages that failed on every attempt until `retryForMs` ran out or the traffic stopped. */
  readonly failed: number;
  /** Single publish attempts that timed out or errored (most were retried successfully). */
  readonly failedAttempts: number;
  readonly inFlight: number;
  /** The `Nats-Msg-Id` of every acknowledged message. */
  readonly ackedIds: ReadonlySet<string>;
  /** Acks flagged `duplicate`: a retry of a publish the stream had already stored. */
  readonly serverDuplicates: number;
  readonly consumed: number;
  /** Messages the consumer received more than once (redeliveries). */
  readonly consumedDuplicates: number;
  /** Longest time without any ack while publishing was active; deliberate pauses excluded. */
  readonly maxPublishGapMs: number;
  /** Gaps of 200 ms or more, for timelines. */
  readonly gaps: readonly PublishGap[];
  readonly samples: readonly TrafficSample[];
  readonly runId: string;
}

const DEFAULTS = { ackTimeoutMs: 2000, maxInFlight: 128, retryForMs: 60_000 } as const;
/** After an outage, catch up at most this much of the schedule at once instead of bursting. */
const MAX_BACKLOG_MS = 1000;

export class CdrTraffic {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private target: ConnectionTarget;
  private readonly consumer: CdrConsumer | undefined;
  private readonly timeline = new TrafficTimeline();
  private readonly ids = new Set<string>();
  private readonly runId: string;
  private pump: Promise<void> | undefined;
  private running = false;
  private paused = false;
  private stopping = false;
  private issued = 0;
  private inFlight = 0;
  private counts = { published: 0, failed: 0, failedAttempts: 0, serverDuplicates: 0 };
  private scheduleStart = 0;
  private scheduleIssued = 0;
  private wakers: Array<() => void> = [];

  constructor(private readonly opts: CdrTrafficOptions) {
    if (!(opts.ratePerSec > 0))
      throw new Error(`ratePerSec must be a positive number, got ${opts.ratePerSec}`);
    this.target = opts.target;
    this.runId = opts.runId ?? newRunId();
    this.consumer = opts.consumer ? new CdrConsumer(opts.consumer) : undefined;
  }

  /** Connects (and starts the consumer), then publishes until paused, stopped or `maxMessages`. */
  async start(): Promise<void> {
    if (this.running) return;
    await this.connect(this.target);
    await this.consumer?.start(this.target);
    this.running = true;
    this.resetSchedule();
    this.timeline.activate();
    this.pump = this.publishLoop();
  }

  /** Stops publishing and resolves when nothing is in flight (every message acked or failed). */
  async pause(): Promise<void> {
    this.paused = true;
    this.wake();
    await this.drained();
    this.timeline.deactivate();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resetSchedule();
    if (this.running && !this.finishedIssuing()) this.timeline.activate();
    this.wake();
  }

  /** Points publisher and consumer at other servers: drains, reconnects, carries on as before. */
  async repoint(target: ConnectionTarget): Promise<void> {
    const wasPaused = this.paused;
    if (!wasPaused) await this.pause();
    const old = this.nc;
    this.target = target;
    await this.connect(target);
    await old?.close();
    if (this.consumer !== undefined) {
      await this.consumer.stop();
      await this.consumer.start(target);
    }
    if (!wasPaused) this.resume();
  }

  /** Stops issuing, lets in-flight messages finish their current attempt, closes, and reports. */
  async stop(): Promise<TrafficStats> {
    this.stopping = true;
    this.running = false;
    this.wake();
    await this.pump;
    await this.drained();
    this.timeline.deactivate();
    this.timeline.freeze();
    await this.consumer?.stop();
    await this.nc?.close();
    this.nc = undefined;
    return this.stats();
  }

  /** Deletes the consumer's durable on the current target (after {@link stop}). */
  async deleteConsumer(): Promise<void> {
    await this.consumer?.deleteDurable(this.target);
  }

  /** Longest part of a publish gap within [from, to] (epoch ms): the unavailability of a failover. */
  maxGapBetween(from: number, to: number): number {
    return this.timeline.maxGapBetween(from, to);
  }

  stats(): TrafficStats {
    return {
      published: this.counts.published,
      acked: this.ids.size,
      failed: this.counts.failed,
      failedAttempts: this.counts.failedAttempts,
      inFlight: this.inFlight,
      ackedIds: this.ids,
      serverDuplicates: this.counts.serverDuplicates,
      consumed: this.consumer?.consumed ?? 0,
      consumedDuplicates: this.consumer?.consumedDuplicates ?? 0,
      maxPublishGapMs: this.timeline.maxPublishGapMs(),
      gaps: this.timeline.gapList(),
      samples: this.timeline.samples(),
      runId: this.runId,
    };
  }

  private async connect(target: ConnectionTarget): Promise<void> {
    this.nc = await connectNats({ ...target, reconnect: true, name: target.name ?? "akira-cdr-publisher" });
    this.js = this.nc.jetstream({ timeout: this.opts.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs });
  }

  private finishedIssuing(): boolean {
    return this.opts.maxMessages !== undefined && this.issued >= this.opts.maxMessages;
  }

  private resetSchedule(): void {
    this.scheduleStart = Date.now();
    this.scheduleIssued = 0;
  }

  private async publishLoop(): Promise<void> {
    const maxInFlight = this.opts.maxInFlight ?? DEFAULTS.maxInFlight;
    while (!this.stopping) {
      if (this.paused || this.finishedIssuing() || this.inFlight >= maxInFlight) {
        await this.sleep(1000);
        continue;
      }
      const now = Date.now();
      let due = this.scheduleStart + (this.scheduleIssued * 1000) / this.opts.ratePerSec;
      if (due < now - MAX_BACKLOG_MS) {
        this.scheduleStart = now - MAX_BACKLOG_MS;
        this.scheduleIssued = 0;
        due = this.scheduleStart;
      }
      if (due > now) {
        await this.sleep(Math.min(due - now, 100));
        continue;
      }
      this.scheduleIssued++;
      void this.publishOne(this.issued++);
    }
  }

  private async publishOne(n: number): Promise<void> {
    const record = cdrRecord(this.runId, n);
    const subject = `${this.opts.subjectPrefix ?? "akira.cdr"}.${record.customerId}`;
    const payload = new TextEncoder().encode(JSON.stringify(record));
    const retryForMs = this.opts.retryForMs ?? DEFAULTS.retryForMs;
    const timeout = this.opts.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs;
    const first = Date.now();
    this.inFlight++;
    this.counts.published++;
    this.timeline.published(first);
    let backoffMs = 100;
    try {
      for (;;) {
        try {
          const js = this.js as JetStreamClient;
          const ack = await js.publish(subject, payload, { msgID: record.id, timeout });
          if (ack.duplicate) this.counts.serverDuplicates++;
          this.ids.add(record.id);
          this.timeline.acked(Date.now() - first);
          return;
        } catch {
          this.counts.failedAttempts++;
          if (this.stopping || Date.now() - first + backoffMs > retryForMs) {
            this.counts.failed++;
            this.timeline.failed();
            return;
          }
          // No responders (503) comes back at once while no leader exists: back off a little.
          await new Promise((r) => setTimeout(r, backoffMs));
          backoffMs = Math.min(1000, backoffMs * 2);
        }
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0 && this.finishedIssuing()) this.timeline.deactivate();
      this.wake();
    }
  }

  private async drained(): Promise<void> {
    while (this.inFlight > 0) await this.sleep(1000);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakers.push(done);
    });
  }

  private wake(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const w of wakers) w();
  }
}
