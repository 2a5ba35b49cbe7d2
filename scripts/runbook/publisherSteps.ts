/**
 * The three hook steps both procedures share: pause the publishers, point the applications at a
 * stack's `natsUrl`, resume. The pause is timed from the pause step's output, so a resumed run
 * (journal) still reports how long the publishers really waited.
 */
import type { ProcedureContext } from "./context";
import type { OperatorHooks } from "./infra";
import type { JsonValue } from "./journal";
import type { Step } from "./steps";

type Obj = { [key: string]: JsonValue };

/** Preflight of both procedures: every hook the steps below call is configured. */
export function requireHooks(hooks: OperatorHooks): void {
  const missing = hooks.missing();
  if (missing.length > 0) {
    throw new Error(`operator hooks not configured: ${missing.join(", ")} (see docs/runbook.md)`);
  }
}

export function pausePublishersStep(): Step<ProcedureContext> {
  return {
    name: "pause-publishers",
    description: "Pause the publishers (operator hook) until nothing is in flight",
    async action(ctx) {
      const pausedAt = Date.now();
      await ctx.hooks.pausePublishers();
      return { pausedAt };
    },
  };
}

/** Points the applications at `stack(ctx)`'s natsUrl through the operator's hook. */
export function pointApplicationsStep(
  step: Pick<Step<ProcedureContext>, "name" | "description" | "runbook">,
  stack: (ctx: ProcedureContext) => string,
): Step<ProcedureContext> {
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
export function resumePublishersStep(description: string): Step<ProcedureContext> {
  return {
    name: "resume-publishers",
    description,
    async action(ctx, run) {
      await ctx.hooks.resumePublishers();
      const pauseMs = Date.now() - (run.output<Obj>("pause-publishers").pausedAt as number);
      run.log(`publishers were paused for ${pauseMs} ms`);
      return { pauseMs };
    },
  };
}
