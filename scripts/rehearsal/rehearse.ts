/**
 * `akira-nats rehearse`: the whole cutover, an unplanned failover and the rollback on one machine,
 * with live CDR traffic from start to end. Local nats-server processes stand in for the pilot
 * (127.0.0.1, the staging renderer's config) and the three GA nodes (127.0.0.2–4, the GA
 * renderer's), and the SAME step code as `akira-nats cutover` / `rollback` runs against them
 * through scripts/runbook/localInfra.ts; the operator hooks drive the CDR traffic (pause, resume,
 * repoint). The phases live in the rehearsal*.ts files beside this one.
 *
 * Loss is measured twice: after the cutover (GA must hold every CDR acknowledged so far) and at the
 * end (the pilot must hold every CDR acknowledged during the whole run).
 */

import { resolve } from "node:path";
import { ackFloorOn, verifyFinal, verifyGa } from "./rehearsalChecks";
import { startPilot } from "./rehearsalPilot";
import { procedureContext, rehearsalRunId, runCutover, runRollback } from "./rehearsalProcedures";
import { reportRehearsal } from "./rehearsalReport";
import { newFindings, type RehearsalFindings, type RehearsalRun, say } from "./rehearsalRun";
import { guardServers, prepareServers, type RehearsalServers, stopServers } from "./rehearsalServers";
import { finishTraffic, milestone, waitPublished } from "./rehearsalTraffic";
import type { RehearsalReport } from "./reportFormat";
import { describeBinaries, varzVersion } from "./serverVersions";

export interface RehearsalOptions {
  /** CDRs to publish at least. Default 3000. */
  readonly messages?: number;
  /** Keep publishing at least this long (ms); wins over `messages` when longer. Default none. */
  readonly durationMs?: number;
  /** CDRs per second. Default 100. */
  readonly ratePerSec?: number;
  /** Where report.json, timeline.svg and the servers' directories go. Default `.rehearsal`. */
  readonly reportDir?: string;
  /** Leave the final servers (pilot) running and put URLs, user, password and pids in the report. */
  readonly keepRunning?: boolean;
  /** `vm`: 4222/6222/8222 as on the VMs; `random`; `auto` (default): vm when those are free. */
  readonly ports?: "auto" | "vm" | "random";
  /** JSON lines instead of text progress. */
  readonly json?: boolean;
  /** Where progress goes. Default stdout. */
  readonly write?: (text: string) => void;
  /** Sabotage, to prove the rehearsal catches a loss: skip the copy of the messages since the backup. */
  readonly skipCopySinceBackup?: boolean;
  /** The pilot's nats-server binary. Default: `$NATS_SERVER_BIN`, else the pinned line. */
  readonly pilotNatsServer?: string;
  /** The GA nodes' nats-server binary. Default: `$NATS_SERVER_BIN`, else the pinned line. */
  readonly gaNatsServer?: string;
}

export async function rehearse(opts: RehearsalOptions = {}): Promise<RehearsalReport> {
  const reportDir = resolve(opts.reportDir ?? ".rehearsal");
  const servers = await prepareServers(opts, reportDir);
  const guard = guardServers(servers);
  const run = startRun(opts, servers, reportDir);
  const found = newFindings();
  try {
    await underTraffic(run, found, opts.skipCopySinceBackup);
    found.keep = opts.keepRunning === true;
  } catch (err) {
    run.failures.push((err as Error).message);
  } finally {
    guard.dropSignalHandlers();
    await found.traffic?.stop().catch(() => undefined);
    await found.ctx?.close();
    await stopServers(servers, found.keep);
    guard.dropExitHook();
  }
  return reportRehearsal(run, found);
}

function startRun(opts: RehearsalOptions, servers: RehearsalServers, reportDir: string): RehearsalRun {
  return {
    write: opts.write ?? ((t: string) => process.stdout.write(t)),
    json: opts.json === true,
    reportDir,
    messages: opts.messages ?? 3000,
    ratePerSec: opts.ratePerSec ?? 100,
    durationMs: opts.durationMs,
    startedAt: Date.now(),
    servers,
    steps: [],
    failures: [],
  };
}

/** From the pilot's start to the final stream's check, the traffic running throughout. */
async function underTraffic(
  run: RehearsalRun,
  found: RehearsalFindings,
  skipCopySinceBackup: boolean | undefined,
): Promise<void> {
  const { pilot, ga, mode, pilotBinary, gaBinary } = run.servers;
  say(
    run,
    `rehearsal: pilot ${pilot.servers}, GA ${ga.servers} (${mode} ports), ${run.messages} CDRs at ${run.ratePerSec}/s`,
  );
  say(run, describeBinaries(pilotBinary, gaBinary));
  const traffic = await startPilot(run, found);
  await waitPublished(traffic, milestone(run, 0.25));
  const ctx = procedureContext(run, found, traffic, skipCopySinceBackup);
  found.ctx = ctx;
  const runId = rehearsalRunId(run);
  found.cutover = await runCutover(run, ctx, runId);
  found.gaVersion = await varzVersion(ga);
  if (!found.cutover.ok) {
    // Like an operator would: publishers must not stay paused while someone investigates.
    traffic.resume();
  } else {
    found.gaLost = await verifyGa(run, ctx, traffic);
    await waitPublished(traffic, milestone(run, 0.6));
    found.rollback = await runRollback(run, ctx, runId);
    if (!found.rollback.ok) traffic.resume();
  }
  const stats = await finishTraffic(run, traffic);
  // Where the applications write now holds the stream that must be complete.
  const where = found.pointedAt.stack;
  found.final = await verifyFinal(run, ctx, where, stats.ackedIds);
  found.endFloor = await ackFloorOn(ctx, where);
}
