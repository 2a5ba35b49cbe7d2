/**
 * The application side of the CDR traffic: a durable pull consumer that acknowledges everything
 * and counts what it received, redeliveries (same message id twice) included.
 */
import type { ConsumerMessages, NatsConnection } from "nats";
import { type ConnectionTarget, connectNats } from "../../components/jetstream/connection";
import { IdTally } from "./idTally";

export interface CdrConsumerOptions {
  readonly stream: string;
  /** Durable name. Default `akira-cdr-traffic`. */
  readonly durable?: string;
  /**
   * Where a durable that does not exist yet starts. Default `new`: a test consumer on a stream
   * that already holds production CDRs must not replay them. A durable that exists (say, restored
   * with the stream from a backup) keeps its own position.
   */
  readonly deliverPolicy?: "new" | "all";
}

export const DEFAULT_DURABLE = "akira-cdr-traffic";

export class CdrConsumer {
  private nc: NatsConnection | undefined;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly tally = new IdTally();
  consumed = 0;
  /** The last error that interrupted consumption (it is restarted), for diagnostics. */
  lastError: string | undefined;

  constructor(private readonly opts: CdrConsumerOptions) {}

  get durable(): string {
    return this.opts.durable ?? DEFAULT_DURABLE;
  }

  get consumedDuplicates(): number {
    return this.tally.duplicates;
  }

  async start(target: ConnectionTarget): Promise<void> {
    this.stopping = false;
    const nc = await connectNats({ ...target, reconnect: true, name: target.name ?? "akira-cdr-consumer" });
    this.nc = nc;
    await this.ensureDurable(nc);
    this.loop = this.run(nc);
  }

  /** Stops consuming and closes the connection; the durable stays on the server. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    await this.loop;
    await this.nc?.close();
    this.nc = undefined;
  }

  /** Deletes the durable (after {@link stop}); used by tests and the failover test for their own durables. */
  async deleteDurable(target: ConnectionTarget): Promise<void> {
    const nc = await connectNats(target);
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.consumers.delete(this.opts.stream, this.durable).catch(() => false);
    } finally {
      await nc.close();
    }
  }

  private async ensureDurable(nc: NatsConnection): Promise<void> {
    const { AckPolicy, DeliverPolicy } = await import("nats");
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.consumers.info(this.opts.stream, this.durable);
    } catch (err) {
      if ((err as { api_error?: { err_code?: number } }).api_error?.err_code !== 10014) throw err;
      await jsm.consumers.add(this.opts.stream, {
        durable_name: this.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: this.opts.deliverPolicy === "all" ? DeliverPolicy.All : DeliverPolicy.New,
        ack_wait: 30_000_000_000,
      });
    }
  }

  private async run(nc: NatsConnection): Promise<void> {
    const js = nc.jetstream();
    while (!this.stopping) {
      try {
        const consumer = await js.consumers.get(this.opts.stream, this.durable);
        // Short pulls (heartbeat every second) notice a lost consumer leader within seconds; the
        // default 30 s expiry leaves consumption stalled for half a minute after a node dies.
        const messages = await consumer.consume({ max_messages: 256, expires: 2000 });
        this.messages = messages;
        if (this.stopping) messages.stop();
        for await (const m of messages) {
          const id = m.headers?.get("Nats-Msg-Id") ?? "";
          if (id !== "") this.tally.add(id);
          this.consumed++;
          m.ack();
        }
      } catch (err) {
        // While a node fails over, the consumer's leader moves and the pull can error out: start
        // over on the same durable, which resumes from its acknowledged position.
        this.lastError = (err as Error).message;
      }
      if (!this.stopping) await new Promise((r) => setTimeout(r, 250));
    }
  }
}
