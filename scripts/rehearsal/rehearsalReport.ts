/**
 * The rehearsal's end: its report made from the run and what the phases found, written as
 * report.json and timeline.svg, and shown.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ConsumersOutput } from "../runbook/consumerSteps";
import { CUTOVER } from "../runbook/cutover";
import { RESUME_PUBLISHERS } from "../runbook/publisherSteps";
import { ROLLBACK } from "../runbook/rollback";
import { outputOf } from "../runbook/steps";
import { DEFAULT_DURABLE } from "../traffic/cdrConsumer";
import type { TrafficStats } from "../traffic/cdrTraffic";
import { REHEARSAL_STREAM } from "./rehearsalConfig";
import type { RehearsalFindings, RehearsalRun } from "./rehearsalRun";
import {
  type CarriedFloor,
  formatReport,
  REPORT_FILE,
  type RehearsalReport,
  TIMELINE_FILE,
} from "./reportFormat";
import { renderTimelineSvg } from "./timeline";

/** Builds, writes and shows the report; call once the servers are stopped or handed over. */
export function reportRehearsal(run: RehearsalRun, found: RehearsalFindings): RehearsalReport {
  const stats = found.traffic?.stats();
  const endedAt = Date.now();
  const report = buildReport(run, found, stats, endedAt);
  writeReportFiles(run, report, stats, endedAt);
  if (run.json) run.write(`${JSON.stringify({ event: "report", ...report })}\n`);
  else run.write(formatReport(report, run.reportDir));
  return report;
}

function buildReport(
  run: RehearsalRun,
  found: RehearsalFindings,
  stats: TrafficStats | undefined,
  endedAt: number,
): RehearsalReport {
  const { cutover, rollback, final } = found;
  const { pilot, ga } = run.servers;
  const failover = outputOf(cutover, CUTOVER.failoverTest);
  const lost = Math.max(final?.lost ?? 0, found.gaLost ?? 0);
  return {
    ok:
      run.failures.length === 0 &&
      lost === 0 &&
      (final?.duplicates ?? 0) === 0 &&
      run.steps.every((s) => s.ok),
    stream: REHEARSAL_STREAM,
    pilotVersion: found.pilotVersion,
    gaVersion: found.gaVersion,
    gaClientUrls: ga.servers.split(","),
    pilotClientUrls: pilot.servers.split(","),
    consumersCarried: outputOf(cutover, CUTOVER.restoreIntoGa)?.consumers ?? null,
    consumerAckFloors: {
      durable: DEFAULT_DURABLE,
      cutover: carriedFloors(outputOf(cutover, CUTOVER.carryConsumers)),
      rollback: carriedFloors(outputOf(rollback, ROLLBACK.carryConsumers)),
      atEnd: found.endFloor ?? null,
      redelivered: stats?.consumedDuplicates ?? 0,
    },
    published: stats?.published ?? 0,
    acked: stats?.acked ?? 0,
    failed: stats?.failed ?? 0,
    stored: final?.stored ?? 0,
    lost,
    duplicates: final?.duplicates ?? 0,
    publisherPauseMs: outputOf(cutover, RESUME_PUBLISHERS)?.pauseMs ?? null,
    rollbackPauseMs: outputOf(rollback, RESUME_PUBLISHERS)?.pauseMs ?? null,
    maxPublishGapMs: stats?.maxPublishGapMs ?? 0,
    failoverUnavailableMs: failover?.unavailableMs ?? null,
    catchUpMs: failover?.catchUpMs ?? outputOf(cutover, CUTOVER.catchUpCheck)?.catchUpMs ?? null,
    durationMs: endedAt - run.startedAt,
    ratePerSec: run.ratePerSec,
    ports: run.servers.mode,
    failures: run.failures,
    steps: run.steps.map((s) => ({ name: s.name, durationMs: s.durationMs, ok: s.ok })),
    ...(found.keep
      ? {
          servers: pilot.servers,
          user: pilot.user,
          password: run.servers.secrets.clientPassword,
          pids: pilot.nodes.map((n) => n.pid ?? 0),
        }
      : {}),
  };
}

/** The traffic durable's carry: its ack floor before, and where the same message sits after. */
function carriedFloors(out: ConsumersOutput | undefined): CarriedFloor | null {
  const c = out?.consumers.find((p) => p.durable === DEFAULT_DURABLE);
  if (c === undefined) return null;
  return { before: c.sourceAckFloor, after: c.destinationStartSeq - 1, nextMessage: c.nextId };
}

function writeReportFiles(
  run: RehearsalRun,
  report: RehearsalReport,
  stats: TrafficStats | undefined,
  endedAt: number,
): void {
  mkdirSync(run.reportDir, { recursive: true });
  writeFileSync(join(run.reportDir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(
    join(run.reportDir, TIMELINE_FILE),
    renderTimelineSvg({
      title: `akira-nats rehearsal: ${report.published} CDRs at ${report.ratePerSec}/s, ${report.lost} lost, cutover pause ${report.publisherPauseMs ?? "-"} ms`,
      samples: stats?.samples ?? [],
      steps: run.steps,
      startMs: run.startedAt,
      endMs: endedAt,
    }),
  );
}
