/**
 * What the rehearsal's phases share: the run (its settings, servers and the record the report and
 * the timeline are made of) and what the phases found on the way.
 */
import type { ProcedureContext } from "../runbook/context";
import { jsonLinesReporter, teeReporter, textReporter } from "../runbook/reporters";
import type { ProcedureResult, StepReporter, StepResult } from "../runbook/steps";
import type { CdrTraffic } from "../traffic/cdrTraffic";
import type { VerifyResult } from "../traffic/verify";
import type { RehearsalServers } from "./rehearsalServers";
import type { TimelineStep } from "./timeline";

export interface RehearsalRun {
  readonly write: (text: string) => void;
  /** Progress as JSON lines. */
  readonly json: boolean;
  readonly reportDir: string;
  /** CDRs to publish at least. */
  readonly messages: number;
  readonly ratePerSec: number;
  /** Publish at least this long (ms), when asked. */
  readonly durationMs: number | undefined;
  readonly startedAt: number;
  readonly servers: RehearsalServers;
  /** The rehearsal's own steps (`rehearsal:…`) and the procedures' (`cutover:…`), as they ended. */
  readonly steps: TimelineStep[];
  /** One line per failure, for the report. */
  readonly failures: string[];
}

/** What the phases found; a field stays unset when its phase did not get that far. */
export interface RehearsalFindings {
  traffic?: CdrTraffic;
  ctx?: ProcedureContext;
  pilotVersion: string | null;
  gaVersion: string | null;
  cutover?: ProcedureResult;
  /** Acknowledged CDRs missing on GA after the cutover. */
  gaLost?: number;
  rollback?: ProcedureResult;
  final?: VerifyResult;
  /** The traffic durable's ack floor where the applications read at the end. */
  endFloor?: number;
  /** The stack the applications write to: the operator hooks move it. */
  readonly pointedAt: { stack: string };
  /** The pilot stays up after the report: asked for, and the rehearsal got to the end. */
  keep: boolean;
}

export function newFindings(): RehearsalFindings {
  return { pilotVersion: null, gaVersion: null, pointedAt: { stack: "staging" }, keep: false };
}

/** A progress line of the rehearsal itself (the procedures' go through their reporters). */
export function say(run: RehearsalRun, line: string): void {
  if (run.json) run.write(`${JSON.stringify({ event: "rehearsal", line })}\n`);
  else run.write(`${line}\n`);
}

/**
 * Runs one of the rehearsal's own steps as `rehearsal:<name>`. A failure is recorded, not thrown,
 * so the rehearsal goes on and the report shows every loss it can still measure.
 */
export async function recordedPhase<T>(
  run: RehearsalRun,
  name: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  const t0 = Date.now();
  try {
    const r = await fn();
    run.steps.push({ name: `rehearsal:${name}`, startedAt: t0, durationMs: Date.now() - t0, ok: true });
    return r;
  } catch (err) {
    run.steps.push({ name: `rehearsal:${name}`, startedAt: t0, durationMs: Date.now() - t0, ok: false });
    run.failures.push(`${name}: ${(err as Error).message}`);
    say(run, `rehearsal step ${name} FAILED: ${(err as Error).message}`);
    return undefined;
  }
}

/** The procedure's progress, as the commands show it, and its steps into the run's record. */
export function procedureReporter(run: RehearsalRun, procedure: string): StepReporter {
  return teeReporter(
    run.json ? jsonLinesReporter(run.write, procedure) : textReporter(run.write, `${procedure}: `),
    recorder(procedure, run.steps),
  );
}

/** Records step results with their procedure's name, for the report and the timeline. */
function recorder(procedure: string, into: TimelineStep[]): StepReporter {
  return {
    stepEnd(_i, _t, _s, r: StepResult) {
      into.push({
        name: `${procedure}:${r.name}`,
        startedAt: r.startedAt,
        durationMs: r.durationMs,
        ok: r.ok,
      });
    },
  };
}
