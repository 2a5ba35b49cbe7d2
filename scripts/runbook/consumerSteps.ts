/**
 * The step both procedures share once the publishers are paused and every message is across:
 * the durable consumers follow the data, each at the message it had not yet acknowledged, so the
 * applications' consumers neither start over (re-billing) nor skip anything.
 */

import { type CarriedPosition, carryConsumerPositions } from "./consumerPositions";
import type { ProcedureContext } from "./context";
import { defineStep, type Step, type StepKey } from "./steps";

export type ConsumersOutput = { consumers: CarriedPosition[] };

/** Carries the durables from the first stack `stacks` names to the second (`from`, `to` name them). */
export function carryConsumersStep(
  key: StepKey<ConsumersOutput>,
  from: "the pilot" | "GA",
  to: "the pilot" | "GA",
  stacks: (ctx: ProcedureContext) => readonly [string, string],
  preflight: StepKey<{ stream: string }>,
  /** Why this run leaves the consumers alone (the rehearsal's sabotage), or undefined. */
  skipped: (ctx: ProcedureContext) => string | undefined = () => undefined,
): Step<ProcedureContext, ConsumersOutput> {
  return defineStep(key, {
    description: `Carry the durable consumers from ${from} to ${to}, each starting at the first message it had not acknowledged (found by message id: the sequences differ)`,
    async action(ctx, run) {
      const skip = skipped(ctx);
      if (skip !== undefined) {
        run.log(skip);
        return { consumers: [] };
      }
      const [src, dst] = stacks(ctx);
      const consumers = await carryConsumerPositions(
        await ctx.client(src),
        await ctx.client(dst),
        run.output(preflight).stream,
        (line) => run.log(line),
      );
      if (consumers.length === 0) run.log(`no durable consumers on ${from}`);
      return { consumers };
    },
  });
}
