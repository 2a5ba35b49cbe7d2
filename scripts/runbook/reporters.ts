/**
 * Progress of a procedure: readable lines for a person (`[3/12] backup-pilot … ok 1.2 s`), or
 * JSON lines (`--json`) for a pipeline. Neither ever prints a secret: steps log counts, URLs without
 * credentials, and file paths.
 */
import type { ProcedureResult, Step, StepReporter, StepResult } from "./steps";

type Write = (text: string) => void;

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** Human progress. `prefix` tells nested procedures apart (the rehearsal prints "cutover: …"). */
export function textReporter(write: Write, prefix = ""): StepReporter {
  return {
    stepStart(index, total, step) {
      write(`${prefix}[${index + 1}/${total}] ${step.name}: ${step.description}\n`);
    },
    stepLog(_step, line) {
      write(`${prefix}      ${line}\n`);
    },
    stepEnd(_index, _total, step: Step<unknown>, result: StepResult) {
      if (result.ok) write(`${prefix}      ok (${seconds(result.durationMs)})\n`);
      else
        write(`${prefix}      FAILED after ${seconds(result.durationMs)}: ${step.name}: ${result.error}\n`);
    },
    finished(result: ProcedureResult) {
      const resumed = result.steps.filter((s) => s.status === "resumed").length;
      const note = resumed > 0 ? ` (${resumed} resumed from the journal)` : "";
      if (result.ok) write(`${prefix}${result.procedure}: ${result.steps.length} steps ok${note}\n`);
      else
        write(
          `${prefix}${result.procedure} stopped at ${result.failure?.step}: ${result.failure?.message}\n`,
        );
    },
  };
}

/** One JSON object a line: `planned`, `step-start`, `log`, `step-end`, `finished`. */
export function jsonLinesReporter(write: Write, procedure?: string): StepReporter {
  const emit = (obj: Record<string, unknown>) =>
    write(`${JSON.stringify({ ...(procedure === undefined ? {} : { procedure }), ...obj })}\n`);
  return {
    planned(proc, steps) {
      emit({ event: "planned", name: proc, steps: steps.map((s) => s.name) });
    },
    stepStart(index, total, step) {
      emit({ event: "step-start", step: step.name, index: index + 1, total });
    },
    stepLog(step, line) {
      emit({ event: "log", step: step.name, line });
    },
    stepEnd(_index, _total, step, result) {
      emit({
        event: "step-end",
        step: step.name,
        ok: result.ok,
        durationMs: result.durationMs,
        ...(result.error === undefined ? {} : { error: result.error }),
      });
    },
    finished(result) {
      emit({ event: "finished", ok: result.ok, ...(result.failure ? { failure: result.failure } : {}) });
    },
  };
}

/** Combines reporters (the rehearsal records steps for its report while printing them). */
export function teeReporter(...reporters: readonly StepReporter[]): StepReporter {
  return {
    planned: (p, s) => {
      for (const r of reporters) r.planned?.(p, s);
    },
    stepStart: (i, t, s) => {
      for (const r of reporters) r.stepStart?.(i, t, s);
    },
    stepLog: (s, l) => {
      for (const r of reporters) r.stepLog?.(s, l);
    },
    stepEnd: (i, t, s, res) => {
      for (const r of reporters) r.stepEnd?.(i, t, s, res);
    },
    finished: (res) => {
      for (const r of reporters) r.finished?.(res);
    },
  };
}
