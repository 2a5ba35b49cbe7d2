/**
 * The end of the failover test: read the stream back against every acknowledged CDR, then judge
 * the whole run into its report.
 */
import type { TrafficStats } from "../traffic/cdrTraffic";
import { type VerifyResult, verifyStream } from "../traffic/verify";
import type { NewLeadership, StopRecord } from "./failoverOutage";
import type { Probe } from "./failoverProbe";
import type { StartRecord } from "./failoverRecovery";
import type { FailoverRun } from "./failoverRun";
import type { FailoverReport } from "./failoverTest";

/** What the phases measured, for the report. */
export interface Findings {
  readonly stop: StopRecord;
  readonly leadership: NewLeadership;
  readonly start: StartRecord;
  readonly catchUpMs: number | null;
  readonly unavailableMs: number;
  readonly stats: TrafficStats;
  /** Absent when the stream could not be read back. */
  readonly verified?: VerifyResult;
  readonly copyAgrees: boolean | null;
}

/** Every acknowledged CDR must be stored exactly once; own traffic is read under its own subjects. */
export async function readBack(
  run: FailoverRun,
  probe: Probe,
  ids: ReadonlySet<string>,
): Promise<VerifyResult | undefined> {
  const { stream } = run;
  run.progress("verify", `reading ${stream} back to check ${ids.size} acknowledged CDRs`);
  try {
    const verified = await verifyStream(
      run.nc,
      stream,
      ids,
      probe.own ? { filterSubject: `${probe.prefix}.>` } : {},
    );
    if (verified.lost > 0)
      run.problem("acked-missing", `${verified.lost} acknowledged CDRs are missing from ${stream}`);
    if (verified.duplicates > 0)
      run.problem("duplicates-stored", `${verified.duplicates} CDRs are stored more than once in ${stream}`);
    return verified;
  } catch (err) {
    run.problem("read-failed", `could not read ${stream} back: ${(err as Error).message}`);
    return undefined;
  }
}

/** The report; it passes only when no phase found a problem. */
export function judge(run: FailoverRun, f: Findings): FailoverReport {
  const { stats, verified, stop, start } = f;
  if (stats.failed > 0)
    run.problem("publish-failed", `${stats.failed} publishes were never acknowledged, even after retrying`);
  return {
    ok: run.problems.length === 0,
    problems: run.problems,
    stream: run.stream,
    node: run.node,
    host: run.host,
    graceful: run.opts.graceful ?? false,
    nodeWasLeader: run.node === run.leader,
    newLeader: f.leadership.newLeader,
    leaderElectedMs: f.leadership.leaderElectedMs,
    published: stats.published,
    acked: stats.acked,
    failed: stats.failed,
    failedAttempts: stats.failedAttempts,
    serverDuplicates: stats.serverDuplicates,
    lost: verified?.lost ?? null,
    duplicates: verified?.duplicates ?? null,
    stored: verified?.stored ?? null,
    consumed: stats.consumed,
    consumedDuplicates: stats.consumedDuplicates,
    ackedWhileDown: start.whileDown.acked - stop.atStop.acked,
    consumedWhileDown: start.whileDown.consumed - stop.atStop.consumed,
    maxPublishGapMs: stats.maxPublishGapMs,
    unavailableMs: f.unavailableMs,
    downMs: start.startAt - stop.stopAt,
    catchUpMs: f.catchUpMs,
    recovered: f.catchUpMs !== null,
    copyAgrees: f.copyAgrees,
    commands: run.commands,
  };
}
