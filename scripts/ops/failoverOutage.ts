/**
 * The node goes down and stays down while the test proves that publishing and consuming carry on
 * without it, and notes when the stream elected a new leader (when the node led it).
 */
import type { NatsConnection } from "nats";
import { type JsApiResponse, jsApiRequest } from "../../components/jetstream/jsApiRequest";
import { waitFor } from "../../components/jetstream/waitFor";
import type { CdrTraffic, TrafficStats } from "../traffic/cdrTraffic";
import type { Probe } from "./failoverProbe";
import type { FailoverRun } from "./failoverRun";
import type { NodeAction } from "./failoverTest";

export interface StopRecord {
  /** The traffic's counters when the stop command was given. */
  readonly atStop: TrafficStats;
  readonly stopAt: number;
  readonly stopped: boolean;
}

export interface NewLeadership {
  readonly newLeader?: string;
  /** From the stop command to a stream leader other than the node. */
  readonly leaderElectedMs?: number;
}

/** {@link NewLeadership} while it is being found out. */
type Elected = { newLeader?: string; leaderElectedMs?: number };

export async function stopNode(run: FailoverRun, traffic: CdrTraffic, stop: NodeAction): Promise<StopRecord> {
  const atStop = traffic.stats();
  const stopAt = Date.now();
  run.progress("stop", `stopping ${run.node}${run.host ? ` (${run.host})` : ""}`);
  const stopped = await run.act("stop", stop);
  return { atStop, stopAt, stopped };
}

/**
 * Keeps the node down until enough acks (and, for the own traffic, deliveries) came without it
 * and `downForMs` has passed. A stall past `availabilityTimeoutMs` is a problem, not an abort: the
 * node is started again and the stream read back all the same.
 */
export async function stayDown(
  run: FailoverRun,
  probe: Probe,
  { atStop, stopAt }: StopRecord,
): Promise<NewLeadership> {
  const { opts, node } = run;
  run.progress("down", `${node} is down: checking that publish and consume carry on`);
  const minAcks = Math.max(10, Math.ceil((opts.ratePerSec ?? 200) / 2));
  const leadership: Elected = {};
  let s = atStop;
  let publishing = false;
  let consuming = false;
  const carriedOn = async () => {
    await watchLeader(run, stopAt, leadership);
    s = probe.traffic.stats();
    publishing = s.acked - atStop.acked >= minAcks;
    consuming = !probe.own || s.consumed - atStop.consumed > 0;
    return publishing && consuming && Date.now() - stopAt >= (opts.downForMs ?? 3000) ? true : undefined;
  };
  await waitFor(carriedOn, {
    timeoutMs: opts.availabilityTimeoutMs ?? 20_000,
    intervalMs: 200,
    what: `publish and consume without ${node}`,
  }).catch(() => {
    if (!publishing) {
      run.problem(
        "publish-stalled",
        `publishing stopped while ${node} was down: ${s.acked - atStop.acked} acks in ${Date.now() - stopAt} ms (${s.failedAttempts - atStop.failedAttempts} failed attempts); the stream lost its quorum`,
      );
    }
    if (!consuming)
      run.problem(
        "consume-stalled",
        `consuming stopped while ${node} was down: nothing received in ${Date.now() - stopAt} ms`,
      );
  });
  // The traffic's own reconnecting connection often sees the new leader's acks before this
  // connection is back from the stopped node: look a little longer for who leads now.
  await waitFor(
    async () => {
      await watchLeader(run, stopAt, leadership);
      return leadership.newLeader !== undefined || run.node !== run.leader ? true : undefined;
    },
    { timeoutMs: 5000, intervalMs: 200, what: `a new leader of ${run.stream}` },
  ).catch(() => undefined);
  return leadership;
}

/** Once, when the node led the stream: the first other leader and how long after the stop. */
async function watchLeader(run: FailoverRun, stopAt: number, found: Elected): Promise<void> {
  if (found.newLeader !== undefined || run.node !== run.leader) return;
  const l = await streamLeader(run.nc, run.stream);
  if (l !== undefined && l !== run.node) {
    found.newLeader = l;
    found.leaderElectedMs = Date.now() - stopAt;
    run.progress("down", `${run.stream} is led by ${l} now (${found.leaderElectedMs} ms after the stop)`);
  }
}

/** The stream's leader, `undefined` while there is none; a short timeout, as it runs while nodes fail. */
async function streamLeader(nc: NatsConnection, stream: string): Promise<string | undefined> {
  const info = await jsApiRequest<JsApiResponse & { cluster?: { leader?: string } }>(
    nc,
    `$JS.API.STREAM.INFO.${stream}`,
    undefined,
    { stream, timeoutMs: 1000 },
  ).catch(() => undefined);
  return info?.cluster?.leader;
}
