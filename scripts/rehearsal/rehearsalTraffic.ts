/**
 * The rehearsal's CDR traffic as "the applications": the operator hooks the procedures pause,
 * resume and repoint it through, how far it has to get between the procedures, and its end.
 */
import { waitFor } from "../../components/jetstream/waitFor";
import type { LocalDeployment } from "../local/localNats";
import type { OperatorHooks } from "../runbook/infra";
import { localEndpoint } from "../runbook/localInfra";
import type { CdrTraffic, TrafficStats } from "../traffic/cdrTraffic";
import type { RehearsalRun } from "./rehearsalRun";

/** How far the traffic must have got: CDRs published, and a moment when a duration was asked. */
export interface Milestone {
  readonly published: number;
  readonly untilMs: number | undefined;
}

/** The operator's side in the rehearsal: the CDR traffic is "the applications". */
export function trafficHooks(
  traffic: CdrTraffic,
  deployments: Readonly<Record<string, LocalDeployment>>,
  pointedAt: { stack: string },
): OperatorHooks {
  return {
    async pausePublishers() {
      await traffic.pause();
    },
    async resumePublishers() {
      traffic.resume();
    },
    async pointApplicationsAt(natsUrl: string) {
      const found = Object.entries(deployments).find(([, d]) => d.servers === natsUrl);
      if (found === undefined) throw new Error(`no rehearsal deployment serves ${natsUrl}`);
      await traffic.repoint(localEndpoint(found[1]).client);
      pointedAt.stack = found[0];
    },
    missing: () => [],
  };
}

/** `fraction` of the way through the run: of its CDRs and, when asked for, of its duration. */
export function milestone(run: RehearsalRun, fraction: number): Milestone {
  return {
    published: Math.max(1, Math.floor(run.messages * fraction)),
    untilMs: run.durationMs === undefined ? undefined : run.startedAt + run.durationMs * fraction,
  };
}

export async function waitPublished(traffic: CdrTraffic, m: Milestone): Promise<void> {
  const reached = () =>
    traffic.stats().published >= m.published && (m.untilMs === undefined || Date.now() >= m.untilMs);
  await waitFor(async () => (reached() ? true : undefined), {
    // No deadline: the traffic keeps to its schedule whatever the servers do (an unanswered CDR is
    // retried, then counted failed) and is never left paused, so it gets there.
    timeoutMs: Number.POSITIVE_INFINITY,
    what: () => `${m.published} CDRs published (${traffic.stats().published} so far)`,
  });
}

/** Publishes until the run's CDRs (and duration) are done, then stops: its acks are the reference. */
export async function finishTraffic(run: RehearsalRun, traffic: CdrTraffic): Promise<TrafficStats> {
  await waitPublished(traffic, {
    published: run.messages,
    untilMs: run.durationMs === undefined ? undefined : run.startedAt + run.durationMs,
  });
  // Pausing first lets every CDR in flight get its final answer (an ack, usually after a retry
  // across the last restart): stopping straight away would cut those retries short.
  await traffic.pause();
  return traffic.stop();
}
