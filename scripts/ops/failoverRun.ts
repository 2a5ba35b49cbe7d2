/**
 * What the phases of one failover test share: the connections, the node under test, and one
 * record of the commands run and the problems found. The report lists problems in the order the
 * phases found them, so every phase adds to the same list.
 */
import type { NatsConnection } from "nats";
import type { FailoverTarget } from "./failoverTarget";
import type {
  FailoverProblem,
  FailoverProblemCode,
  FailoverProgress,
  FailoverTestOptions,
  NodeAction,
} from "./failoverTest";
import { type CommandResult, runShell, substitute } from "./shellCommand";

export interface FailoverRun extends FailoverTarget {
  readonly nc: NatsConnection;
  /** Absent without the system account: no host lookup, hand-off or copy check then. */
  readonly sysNc: NatsConnection | undefined;
  readonly opts: FailoverTestOptions;
  readonly stream: string;
  readonly commands: CommandResult[];
  readonly problems: FailoverProblem[];
  progress(phase: FailoverProgress["phase"], message: string): void;
  problem(code: FailoverProblemCode, message: string): void;
  /** Stops, starts or lame-ducks the node; false (and a `command-failed` problem) when that failed. */
  act(what: string, action: NodeAction): Promise<boolean>;
}

export function newRun(
  nc: NatsConnection,
  sysNc: NatsConnection | undefined,
  opts: FailoverTestOptions,
  target: FailoverTarget,
  progress: FailoverRun["progress"],
): FailoverRun {
  const commands: CommandResult[] = [];
  const problems: FailoverProblem[] = [];
  const run: FailoverRun = {
    ...target,
    nc,
    sysNc,
    opts,
    stream: opts.stream,
    commands,
    problems,
    progress,
    problem: (code, message) => {
      problems.push({ code, message });
    },
    act: (what, action) => act(run, what, action),
  };
  return run;
}

/**
 * A failed action is a finding, not an abort: the test goes on (a node that did not stop still
 * has to be started, the traffic still read back) and the report says what failed.
 */
async function act(run: FailoverRun, what: string, action: NodeAction): Promise<boolean> {
  const { node, host } = run;
  if (typeof action === "function") {
    try {
      await action({ name: node, host });
      return true;
    } catch (err) {
      run.problem("command-failed", `${what} ${node} failed: ${(err as Error).message}`);
      return false;
    }
  }
  const r = await runShell(substitute(action, { node, host }), run.opts.commandTimeoutMs ?? 120_000);
  run.commands.push(r);
  if (r.exitCode === 0) return true;
  run.problem(
    "command-failed",
    `${what} command for ${node} ${r.timedOut ? "timed out" : `exited with ${r.exitCode ?? r.signal}`}: ${r.command}${r.output ? ` (${r.output.split("\n").slice(-3).join(" | ")})` : ""}`,
  );
  return false;
}
