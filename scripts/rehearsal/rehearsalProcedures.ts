/**
 * The cutover and the rollback in the rehearsal: the SAME steps as `akira-nats cutover` and
 * `rollback`, run through a {@link ProcedureContext} on the local servers, with the CDR traffic as
 * the applications and a SIGKILL of a GA node as the unplanned failure.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { LocalDeployment } from "../local/localNats";
import { ProcedureContext } from "../runbook/context";
import { cutoverSteps } from "../runbook/cutover";
import { rollbackSteps } from "../runbook/rollback";
import { failoverRunner, monitorStarter } from "../runbook/runners";
import { type ProcedureResult, runSteps, type Step } from "../runbook/steps";
import type { CdrTraffic } from "../traffic/cdrTraffic";
import { procedureReporter, type RehearsalFindings, type RehearsalRun } from "./rehearsalRun";
import { trafficHooks } from "./rehearsalTraffic";

/** The context both procedures run in; the hooks record in `found` where the applications write. */
export function procedureContext(
  run: RehearsalRun,
  found: RehearsalFindings,
  traffic: CdrTraffic,
  skipCopySinceBackup: boolean | undefined,
): ProcedureContext {
  const { pilot, ga, infra } = run.servers;
  const stateDir = join(run.reportDir, "state");
  const ctx = new ProcedureContext(
    infra,
    trafficHooks(traffic, { staging: pilot, ga }, found.pointedAt),
    { pilotStack: "staging", gaStack: "ga", stateDir, timeoutMs: 120_000, skipCopySinceBackup },
    failoverRunner({
      traffic,
      downForMs: 2000,
      // The unplanned failure: SIGKILL, no lame duck, no goodbye to the cluster.
      stop: async (node) => {
        await nodeByName(ga, node.name).kill();
      },
      start: async (node) => {
        await nodeByName(ga, node.name).start();
      },
    }),
    monitorStarter((url, s) => `akira-nats monitor -s ${url} --stream ${s}`),
  );
  rmSync(stateDir, { recursive: true, force: true });
  return ctx;
}

/** Names the procedures' backups after the run's start. */
export function rehearsalRunId(run: RehearsalRun): string {
  return new Date(run.startedAt).toISOString().replace(/[:.]/g, "-");
}

export function runCutover(
  run: RehearsalRun,
  ctx: ProcedureContext,
  runId: string,
): Promise<ProcedureResult> {
  return runProcedure(run, ctx, "cutover", cutoverSteps(runId));
}

export function runRollback(
  run: RehearsalRun,
  ctx: ProcedureContext,
  runId: string,
): Promise<ProcedureResult> {
  return runProcedure(run, ctx, "rollback", rollbackSteps(runId));
}

async function runProcedure(
  run: RehearsalRun,
  ctx: ProcedureContext,
  procedure: string,
  steps: readonly Step<ProcedureContext>[],
): Promise<ProcedureResult> {
  const r = await runSteps({ procedure, steps, ctx, reporter: procedureReporter(run, procedure) });
  if (!r.ok) run.failures.push(`${procedure} stopped at ${r.failure?.step}: ${r.failure?.message}`);
  return r;
}

function nodeByName(d: LocalDeployment, name: string) {
  const n = d.nodes.find((x) => x.spec.name === name);
  if (n === undefined) throw new Error(`no GA node named ${name}`);
  return n;
}
