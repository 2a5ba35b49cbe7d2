/**
 * The three hook steps both procedures share: pause the publishers, point the applications at a
 * stack's `natsUrl`, resume. The pause is timed from the pause step's output, so a resumed run
 * (journal) still reports how long the publishers really waited.
 */
import type { ProcedureContext } from "./context";
import type { OperatorHooks } from "./infra";
import { defineStep, type Step, stepKey } from "./steps";

export type PauseOutput = { pausedAt: number };
export type PointOutput = { natsUrl: string };
export type ResumeOutput = { pauseMs: number };

export const PAUSE_PUBLISHERS = stepKey<PauseOutput>("pause-publishers");
export const RESUME_PUBLISHERS = stepKey<ResumeOutput>("resume-publishers");

/** Preflight of both procedures: every hook the steps below call is configured. */
export function requireHooks(hooks: OperatorHooks): void {
  const missing = hooks.missing();
  if (missing.length > 0) {
    throw new Error(`operator hooks not configured: ${missing.join(", ")} (see docs/runbook.md)`);
  }
}

export function pausePublishersStep(): Step<ProcedureContext, PauseOutput> {
  return defineStep(PAUSE_PUBLISHERS, {
    description: "Pause the publishers (operator hook) until nothing is in flight",
    async action(ctx) {
      const pausedAt = Date.now();
      await ctx.hooks.pausePublishers();
      return { pausedAt };
    },
  });
}

/** Points the applications at `stack(ctx)`'s natsUrl through the operator's hook. */
export function pointApplicationsStep(
  step: Pick<Step<ProcedureContext>, "name" | "description" | "runbook">,
  stack: (ctx: ProcedureContext) => string,
): Step<ProcedureContext, PointOutput> {
  return {
    ...step,
    async action(ctx) {
      const endpoint = await ctx.infra.endpoint(stack(ctx));
      await ctx.hooks.pointApplicationsAt(endpoint.natsUrl, endpoint.caCertificate);
      return { natsUrl: endpoint.natsUrl };
    },
  };
}

/** Resumes the publishers and reports how long they were paused. */
export function resumePublishersStep(description: string): Step<ProcedureContext, ResumeOutput> {
  return defineStep(RESUME_PUBLISHERS, {
    description,
    async action(ctx, run) {
      await ctx.hooks.resumePublishers();
      const pauseMs = Date.now() - run.output(PAUSE_PUBLISHERS).pausedAt;
      run.log(`publishers were paused for ${pauseMs} ms`);
      return { pauseMs };
    },
  });
}
