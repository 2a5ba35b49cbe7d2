/**
 * The step engine behind `cutover`, `rollback` and the rehearsal: ordered steps, each with a
 * description, a precondition, an action and a result check. The first failure stops the run with
 * a message that names the step; the journal records every completed step so `--resume` goes on
 * from the last good one.
 */
import { Journal, type JsonValue } from "./journal";

/** What a step returns: journaled, so JSON. */
export type StepOutput = JsonValue | undefined;

/**
 * A step's name and the type of its result. Later steps, and reports of a finished run, read a
 * result through its key ({@link StepRun.output}, {@link outputOf}): typed, never by a string.
 */
export interface StepKey<T extends StepOutput> {
  /** Stable kebab-case name: the journal key and the `--json` step id. */
  readonly name: string;
  /** The result's type, for the compiler only: never set. */
  readonly __output?: T;
}

export function stepKey<T extends StepOutput>(name: string): StepKey<T> {
  return { name };
}

export interface Step<C, T extends StepOutput = StepOutput> extends StepKey<T> {
  /** One line for the plan (`--dry-run`) and the progress output. */
  readonly description: string;
  /** The customer's runbook step this serves, e.g. "5" or "rollback 1"; shown in the plan. */
  readonly runbook?: string;
  /** Throws (with advice) when the step must not start. */
  precondition?(ctx: C, run: StepRun): Promise<void>;
  /** Does the work; its result is journaled and readable by later steps through its key. */
  action(ctx: C, run: StepRun): Promise<T>;
  /** Throws when the action's effect is not what it should be. */
  check?(ctx: C, output: T, run: StepRun): Promise<void>;
}

/** The step for `key`: its action must return the key's type. */
export function defineStep<C, T extends StepOutput>(
  key: StepKey<T>,
  spec: Omit<Step<C, T>, "name" | "__output">,
): Step<C, T> {
  return { ...spec, name: key.name };
}

/** What a step sees of the run besides its context. */
export interface StepRun {
  /** Result of an earlier step, from this run or from the journal of an interrupted one. */
  output<T extends StepOutput>(step: StepKey<T>): T;
  /** A progress line, shown under the step on a TTY and as a `log` event with `--json`. */
  log(line: string): void;
}

/** The result of `step` in a finished (or stopped) run; undefined when it did not complete. */
export function outputOf<T extends StepOutput>(
  result: ProcedureResult | undefined,
  step: StepKey<T>,
): T | undefined {
  const r = result?.steps.find((s) => s.name === step.name && s.ok);
  return r?.output as T | undefined;
}

export type StepStatus = "done" | "failed" | "resumed" | "planned";

export interface StepResult {
  readonly name: string;
  readonly status: StepStatus;
  readonly ok: boolean;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly output?: JsonValue;
  readonly error?: string;
}

export interface ProcedureResult {
  readonly ok: boolean;
  readonly procedure: string;
  readonly steps: readonly StepResult[];
  /** The failed step and its message. */
  readonly failure?: { readonly step: string; readonly message: string };
}

/** Receives progress; see progress.ts for the TTY and JSON-lines renderers. */
export interface StepReporter {
  planned?(procedure: string, steps: readonly Step<unknown>[]): void;
  stepStart?(index: number, total: number, step: Step<unknown>): void;
  stepLog?(step: Step<unknown>, line: string): void;
  stepEnd?(index: number, total: number, step: Step<unknown>, result: StepResult): void;
  finished?(result: ProcedureResult): void;
}

export interface RunOptions<C> {
  /** `cutover`, `rollback`: names the journal. */
  readonly procedure: string;
  readonly steps: readonly Step<C>[];
  readonly ctx: C;
  /** Where completed steps are recorded; none for a run that need not resume. */
  readonly journal?: Journal;
  /** Skip the steps the journal records as done. Default false. */
  readonly resume?: boolean;
  readonly reporter?: StepReporter;
  /** Stop (successfully) after this step, as an interruption would; used to rehearse `--resume`. */
  readonly stopAfter?: string;
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** The plan as `--dry-run` prints it. */
export function formatPlan(procedure: string, stack: string, steps: readonly Step<unknown>[]): string {
  const width = String(steps.length).length;
  const lines = steps.map((s, i) => {
    const n = String(i + 1).padStart(width, " ");
    const rb = s.runbook === undefined ? "" : ` [runbook ${s.runbook}]`;
    return `${n}. ${s.name}${rb}\n${" ".repeat(width + 2)}${s.description}`;
  });
  return `${procedure} of stack ${stack}: ${steps.length} steps (dry run, nothing was changed)\n${lines.join("\n")}\n`;
}

/** Checks that a journal belongs to this plan: its done steps must be a prefix of the steps. */
function resumePoint<C>(journal: Journal, steps: readonly Step<C>[], procedure: string): number {
  if (journal.procedure !== procedure) {
    throw new Error(`journal ${journal.path} records a ${journal.procedure}, not a ${procedure}`);
  }
  const done = journal.doneSteps();
  for (const [i, name] of done.entries()) {
    if (steps[i]?.name !== name) {
      throw new Error(
        `journal ${journal.path} does not match this ${procedure}'s steps (step ${i + 1} is "${name}" there, "${steps[i]?.name ?? "(none)"}" here): move it away to start over`,
      );
    }
  }
  return done.length;
}

/** What one run keeps while its steps go: results so far and every output a later step may read. */
interface RunState {
  readonly outputs: Map<string, JsonValue | undefined>;
  readonly results: StepResult[];
}

/** Takes over the journal's done steps (their outputs included); returns where to go on. */
function resumeFromJournal<C>(opts: RunOptions<C>, state: RunState, now: () => number): number {
  const { journal, steps } = opts;
  if (!opts.resume || journal === undefined) return 0;
  const start = resumePoint(journal, steps, opts.procedure);
  for (const step of steps.slice(0, start)) {
    const output = journal.output(step.name);
    state.outputs.set(step.name, output);
    const entry = journal.entries.find((e) => e.name === step.name);
    state.results.push({
      name: step.name,
      status: "resumed",
      ok: true,
      startedAt: entry === undefined ? now() : Date.parse(entry.startedAt),
      durationMs: entry?.durationMs ?? 0,
      output,
    });
  }
  return start;
}

/** The step's view of the run: earlier outputs by key, and its progress lines. */
function stepRun<C>(step: Step<C>, state: RunState, reporter: StepReporter | undefined): StepRun {
  return {
    output<T extends StepOutput>(earlier: StepKey<T>): T {
      if (!state.outputs.has(earlier.name)) {
        throw new Error(`step ${step.name} needs the output of step ${earlier.name}, which has not run`);
      }
      // The journal holds what this key's step returned: the one place its type is taken on trust.
      return state.outputs.get(earlier.name) as T;
    },
    log(line: string) {
      reporter?.stepLog?.(step as Step<unknown>, line);
    },
  };
}

/** Precondition, action, check: the step's result, or its failure named by the phase that failed. */
async function runOne<C>(
  step: Step<C>,
  ctx: C,
  run: StepRun,
): Promise<{ output: JsonValue | undefined } | { error: string }> {
  let phase = "precondition";
  try {
    await step.precondition?.(ctx, run);
    phase = "action";
    const output = await step.action(ctx, run);
    phase = "check";
    await step.check?.(ctx, output, run);
    return { output };
  } catch (err) {
    const reason = (err as Error).message;
    return { error: phase === "action" ? reason : `${phase} failed: ${reason}` };
  }
}

/** A step that ran ends in the results, the journal (for --resume) and the reporter alike. */
function settle<C>(
  opts: RunOptions<C>,
  state: RunState,
  i: number,
  result: StepResult & { status: "done" | "failed" },
): void {
  state.results.push(result);
  opts.journal?.record({
    name: result.name,
    status: result.status,
    startedAt: new Date(result.startedAt).toISOString(),
    durationMs: result.durationMs,
    ...(result.output === undefined ? {} : { output: result.output }),
    ...(result.error === undefined ? {} : { error: result.error }),
  });
  opts.reporter?.stepEnd?.(i, opts.steps.length, opts.steps[i] as Step<unknown>, result);
}

export async function runSteps<C>(opts: RunOptions<C>): Promise<ProcedureResult> {
  const now = opts.now ?? Date.now;
  const { steps, reporter, procedure } = opts;
  const state: RunState = { outputs: new Map(), results: [] };
  const start = resumeFromJournal(opts, state, now);
  reporter?.planned?.(procedure, steps as readonly Step<unknown>[]);
  const finish = (result: ProcedureResult): ProcedureResult => {
    reporter?.finished?.(result);
    return result;
  };
  for (let i = start; i < steps.length; i++) {
    const step = steps[i] as Step<C>;
    reporter?.stepStart?.(i, steps.length, step as Step<unknown>);
    const startedAt = now();
    const r = await runOne(step, opts.ctx, stepRun(step, state, reporter));
    const timing = { name: step.name, startedAt, durationMs: now() - startedAt };
    if ("error" in r) {
      settle(opts, state, i, { ...timing, status: "failed", ok: false, error: r.error });
      return finish({
        ok: false,
        procedure,
        steps: state.results,
        failure: { step: step.name, message: r.error },
      });
    }
    state.outputs.set(step.name, r.output);
    settle(opts, state, i, { ...timing, status: "done", ok: true, output: r.output });
    if (opts.stopAfter === step.name && i < steps.length - 1) {
      return finish({ ok: true, procedure, steps: state.results });
    }
  }
  opts.journal?.markFinished();
  return finish({ ok: true, procedure, steps: state.results });
}

/**
 * Opens the journal for a run: the existing one with `resume`, a fresh one otherwise. Refuses to
 * start afresh over an unfinished run, which could repeat a backup or a copy by accident.
 */
export function openJournal(path: string, procedure: string, stack: string, resume: boolean): Journal {
  const existing = Journal.load(path);
  if (resume) {
    if (existing === undefined) {
      throw new Error(`nothing to resume: no journal at ${path} (run without --resume to start)`);
    }
    if (existing.finished) {
      throw new Error(`nothing to resume: the ${procedure} recorded in ${path} finished`);
    }
    return existing;
  }
  if (existing !== undefined && !existing.finished) {
    const done = existing.doneSteps();
    const last = done.length === 0 ? "none" : (done[done.length - 1] as string);
    throw new Error(
      `an unfinished ${existing.procedure} of stack ${existing.stack} is recorded in ${path} (last good step: ${last}): run with --resume to continue it, or move the file away to start over`,
    );
  }
  return Journal.create(path, procedure, stack);
}
