/**
 * Loss, measured twice: after the cutover GA must hold every CDR acknowledged so far, and at the end
 * the stream the applications write to must hold every CDR acknowledged during the whole run, once.
 */
import type { ProcedureContext } from "../runbook/context";
import { DEFAULT_DURABLE } from "../traffic/cdrConsumer";
import type { CdrTraffic } from "../traffic/cdrTraffic";
import { type VerifyResult, verifyStream } from "../traffic/verify";
import { REHEARSAL_STREAM } from "./rehearsalConfig";
import { type RehearsalRun, recordedPhase, say } from "./rehearsalRun";

/** The `verify-ga` step; the acknowledged CDRs missing on GA, counted even when the step failed. */
export async function verifyGa(
  run: RehearsalRun,
  ctx: ProcedureContext,
  traffic: CdrTraffic,
): Promise<number> {
  const checked = await recordedPhase(run, "verify-ga", async () => {
    const nc = await ctx.client("ga");
    const r = await verifyStream(nc, REHEARSAL_STREAM, new Set(traffic.stats().ackedIds));
    say(
      run,
      `GA after cutover: ${r.stored} stored, ${r.lost} acked CDRs missing, ${r.duplicates} duplicates`,
    );
    if (r.lost > 0)
      throw new Error(
        `${r.lost} acknowledged CDRs are missing on GA (e.g. ${r.lostSample.slice(0, 3).join(", ")})`,
      );
    return r.lost;
  });
  return checked ?? (await lostOn(ctx, "ga", traffic));
}

/** The `verify-final` step on `stack`; the stream read again for the report when the step failed. */
export async function verifyFinal(
  run: RehearsalRun,
  ctx: ProcedureContext,
  stack: string,
  ackedIds: ReadonlySet<string>,
): Promise<VerifyResult> {
  const checked = await recordedPhase(run, "verify-final", async () => {
    const nc = await ctx.client(stack);
    const r = await verifyStream(nc, REHEARSAL_STREAM, ackedIds);
    say(
      run,
      `final stream on ${stack}: ${r.stored} stored, ${r.lost} acked CDRs missing, ${r.duplicates} duplicates`,
    );
    if (r.lost > 0)
      throw new Error(
        `${r.lost} acknowledged CDRs are missing (e.g. ${r.lostSample.slice(0, 3).join(", ")})`,
      );
    if (r.duplicates > 0) throw new Error(`${r.duplicates} CDRs are stored twice`);
    return r;
  });
  if (checked !== undefined) return checked;
  const nc = await ctx.client(stack);
  return verifyStream(nc, REHEARSAL_STREAM, ackedIds);
}

/** The traffic durable's ack floor on `stack`, as the server reports it. */
export async function ackFloorOn(ctx: ProcedureContext, stack: string): Promise<number | undefined> {
  const jsm = await (await ctx.client(stack)).jetstreamManager();
  const info = await jsm.consumers.info(REHEARSAL_STREAM, DEFAULT_DURABLE).catch(() => undefined);
  return info?.ack_floor.stream_seq;
}

async function lostOn(ctx: ProcedureContext, stack: string, t: CdrTraffic): Promise<number> {
  const r = await verifyStream(await ctx.client(stack), REHEARSAL_STREAM, new Set(t.stats().ackedIds)).catch(
    () => undefined,
  );
  return r?.lost ?? 0;
}
