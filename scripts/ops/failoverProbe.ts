/**
 * The failover test's probe traffic: CDRs published and consumed all through the test, under
 * subjects of their own, or the traffic a caller already runs (the rehearsal's). Only traffic
 * started here is stopped and cleaned up here.
 */
import { AkiraNatsError } from "../../components/jetstream/errors";
import { waitFor } from "../../components/jetstream/waitFor";
import { newRunId } from "../traffic/cdrRecord";
import { CdrTraffic, type TrafficStats } from "../traffic/cdrTraffic";
import type { FailoverRun } from "./failoverRun";

export interface Probe {
  readonly traffic: CdrTraffic;
  /** Started by the test itself (not `opts.traffic`). */
  readonly own: boolean;
  /** `<subject prefix>.<run id>`: the test's CDRs go below it. */
  readonly prefix: string;
  /** The own traffic's consumer. */
  readonly durable: string;
}

export async function startProbe(run: FailoverRun): Promise<Probe> {
  const { opts, stream } = run;
  // Each run publishes under its own subjects, so reading back checks exactly this run's CDRs.
  const runId = newRunId();
  const base =
    opts.subjectPrefix ?? testSubjectPrefix(stream, run.before.config.subjects as string[] | undefined);
  const prefix = `${base}.${runId}`;
  const durable = `akira-failover-test-${runId}`;
  if (opts.traffic !== undefined) return { traffic: opts.traffic, own: false, prefix, durable };
  const traffic = new CdrTraffic({
    target: { ...opts.target, name: "akira-nats failover-test traffic" },
    subjectPrefix: prefix,
    ratePerSec: opts.ratePerSec ?? 200,
    runId,
    consumer: { stream, durable, deliverPolicy: "new" },
  });
  run.progress(
    "traffic",
    `publishing ${opts.ratePerSec ?? 200} CDRs/s to ${prefix}.* and consuming them (durable ${durable})`,
  );
  await traffic.start();
  return { traffic, own: true, prefix, durable };
}

/** Traffic that never flowed with every node up proves nothing about a node going down. */
export async function proveTrafficFlows({ traffic, own }: Probe): Promise<void> {
  const timeoutMs = 15_000;
  const flowing = async () =>
    traffic.stats().acked > 0 && (!own || traffic.stats().consumed > 0) ? true : undefined;
  await waitFor(flowing, { timeoutMs, intervalMs: 50, what: "traffic to flow" }).catch(() => {
    throw new AkiraNatsError(
      "no-traffic",
      `no traffic to flow within ${timeoutMs} ms: check the stream's subjects and the user's permissions`,
    );
  });
}

/** The probe's final numbers, and the ids acknowledged by then. */
export async function finishProbe(probe: Probe): Promise<{ stats: TrafficStats; ids: ReadonlySet<string> }> {
  if (probe.own) {
    const stats = await probe.traffic.stop();
    return { stats, ids: stats.ackedIds };
  }
  // Running traffic goes on acking into the same set: read back what was acknowledged by now.
  const stats = probe.traffic.stats();
  return { stats, ids: new Set(stats.ackedIds) };
}

/** The test's durable goes; its CDRs stay, they are real messages in the stream. */
export async function releaseProbe(probe: Probe): Promise<void> {
  if (probe.own) await probe.traffic.deleteConsumer().catch(() => undefined);
}

/** After a phase threw: the own traffic must not go on publishing, nor its durable stay. */
export async function abandonProbe(probe: Probe): Promise<void> {
  if (!probe.own) return;
  await probe.traffic.stop().catch(() => undefined);
  await probe.traffic.deleteConsumer().catch(() => undefined);
}

/** `akira.cdr.>` → `akira.cdr.failover-test`, so test CDRs stay apart from production ones. */
export function testSubjectPrefix(stream: string, subjects: readonly string[] | undefined): string {
  const wildcard = subjects?.find((s) => s.endsWith(".>"));
  if (wildcard === undefined) {
    throw new AkiraNatsError(
      "no-subject",
      `${stream} has no subject ending in ".>" (${(subjects ?? []).join(", ") || "none"}) to put test CDRs under: pass --subject-prefix`,
    );
  }
  return `${wildcard.slice(0, -2)}.failover-test`;
}
