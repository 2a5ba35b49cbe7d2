/**
 * The rollback as checked steps. The customer's runbook stops the GA nodes first and restores the
 * pre-migration backup, which drops every CDR taken during GA. Here the data moves first: the GA
 * stream is backed up, every GA message whose id the pilot lacks is carried to the pilot (the bulk
 * while the applications still write to GA, only the tail during the publisher pause), the
 * applications are pointed back, and only then do the GA nodes stop and the staging stack is
 * re-applied. The pilot keeps its pre-cutover data throughout; nothing is restored over it.
 */

import { replicaCurrent } from "../../components/jetstream/health";
import { changeReplicas } from "../../components/jetstream/replicas";
import { backupStream } from "../../components/jetstream/snapshot";
import { streamSnapshotInfo } from "../../components/jetstream/streams";
import { type ConsumersOutput, carryConsumersStep } from "./consumerSteps";
import type { ProcedureContext } from "./context";
import { copyMessages, lastSequence, streamIds } from "./copyMessages";
import { backupDir, tail } from "./cutover";
import { checkBackupSpace, checkPilotVersion, checkStackConfig } from "./preflight";
import {
  pausePublishersStep,
  pointApplicationsStep,
  requireHooks,
  resumePublishersStep,
} from "./publisherSteps";
import { defineStep, type Step, stepKey } from "./steps";

export type RollbackPreflightOutput = {
  stream: string;
  gaMessages: number;
  pilotMessages: number;
  pilotVersion: string;
};
export type CarryOutput = { copied: number; skipped: number; gaLastSeq: number; pilotLastSeq: number };
export type CarryDeltaOutput = { copied: number; skipped: number; gaLastSeq: number; gaLastId: string };
export type ReplicasDownOutput = { replicas: number; changed: boolean; skipped?: true; keptOn?: string };

/** Every rollback step's key: later steps and the rehearsal's report read results through these. */
export const ROLLBACK = {
  preflight: stepKey<RollbackPreflightOutput>("preflight"),
  backupGa: stepKey<{ dir: string; messages: number; lastSeq: number }>("backup-ga"),
  carryGaMessages: stepKey<CarryOutput>("carry-ga-messages"),
  carryDelta: stepKey<CarryDeltaOutput>("carry-delta"),
  carryConsumers: stepKey<ConsumersOutput>("carry-consumer-positions"),
  verifyPilotComplete: stepKey<{ gaMessages: number; pilotMessages: number }>("verify-pilot-complete"),
  replicasDown: stepKey<ReplicasDownOutput>("replicas-down"),
  stopGaNodes: stepKey<{ stopped: boolean }>("stop-ga-nodes"),
  provisionStaging: stepKey<{ natsUrl: string; messages: number }>("provision-staging"),
} as const;

/** At most this many carry passes before the pause. */
const MAX_CARRY_PASSES = 5;
/** A pass that carried no more than this leaves a tail short enough for the pause. */
const SMALL_TAIL = 500;

export function rollbackSteps(runId: string): Step<ProcedureContext>[] {
  return [
    preflightStep(),
    defineStep(ROLLBACK.backupGa, {
      runbook: "rollback 3",
      description: "Back up the GA stream first (the state to return to should anything go wrong)",
      async action(ctx, run) {
        const { stream } = run.output(ROLLBACK.preflight);
        const dir = backupDir(ctx, "rollback", runId);
        const r = await backupStream(await ctx.client(ctx.opts.gaStack), stream, dir);
        run.log(`${r.messages} messages up to sequence ${r.lastSeq} in ${dir}`);
        return { dir, messages: r.messages, lastSeq: r.lastSeq };
      },
    }),
    carryGaMessagesStep(),
    pausePublishersStep(),
    carryDeltaStep(),
    carryConsumersStep(
      ROLLBACK.carryConsumers,
      "GA",
      "the pilot",
      (ctx) => [ctx.opts.gaStack, ctx.opts.pilotStack],
      ROLLBACK.preflight,
    ),
    pointApplicationsStep(
      {
        name: "point-apps-at-pilot",
        runbook: "rollback 4",
        description:
          "Point the applications back at the pilot (operator hook; the natsUrl output of the staging stack)",
      },
      (ctx) => ctx.opts.pilotStack,
    ),
    resumePublishersStep("Resume the publishers (operator hook), now writing to the pilot"),
    verifyPilotCompleteStep(),
    replicasDownStep(),
    defineStep(ROLLBACK.stopGaNodes, {
      runbook: "rollback 1",
      description: "Stop the GA nodes (their disks and the GA backup stay)",
      async action(ctx) {
        await ctx.forget(ctx.opts.gaStack);
        await ctx.infra.stopNodes(ctx.opts.gaStack);
        return { stopped: true };
      },
    }),
    provisionStagingStep(),
  ];
}

function preflightStep() {
  return defineStep<ProcedureContext, RollbackPreflightOutput>(ROLLBACK.preflight, {
    description:
      "Validate the staging stack config, check the hooks, that GA and the pilot both answer and that the disk holds a backup of the GA stream",
    async action(ctx, run) {
      const { gaStack, pilotStack, stateDir } = ctx.opts;
      const staging = await checkStackConfig(ctx.infra, pilotStack, "single");
      requireHooks(ctx.hooks);
      // The rollback ends with `pulumi up` on staging: that installs the pin on the pilot.
      const version = await checkPilotVersion(ctx, staging, run);
      const stream = staging.streamName;
      const pilot = await streamSnapshotInfo(await ctx.client(pilotStack), stream).catch((err: Error) => {
        throw new Error(
          `the pilot must run with its pre-cutover ${stream} before a rollback: ${err.message} (pulumi up on stack ${pilotStack} brings it back)`,
        );
      });
      const space = await checkBackupSpace(await ctx.client(gaStack), stream, stateDir);
      run.log(`GA ${stream}: ${space.messages} messages; pilot: ${pilot.state.messages} messages`);
      return {
        stream,
        gaMessages: space.messages,
        pilotMessages: pilot.state.messages,
        pilotVersion: version.running,
      };
    },
  });
}

function carryGaMessagesStep() {
  return defineStep<ProcedureContext, CarryOutput>(ROLLBACK.carryGaMessages, {
    description:
      "Carry every GA message whose id the pilot lacks to the pilot, ids preserved (publishers still on GA)",
    async action(ctx, run) {
      const { stream } = run.output(ROLLBACK.preflight);
      const pilot = await ctx.client(ctx.opts.pilotStack);
      const { ids } = await streamIds(pilot, stream);
      const ga = await ctx.client(ctx.opts.gaStack);
      // Passes until one carries little: what the applications publish during a pass is carried
      // by the next, so the tail left for the publisher pause stays small.
      let copied = 0;
      let skipped = 0;
      let fromSeq = 1;
      for (let pass = 1; pass <= MAX_CARRY_PASSES; pass++) {
        const r = await copyMessages(ga, pilot, stream, {
          fromSeq,
          skipIds: ids,
          onProgress: (n) => {
            if (n % 10_000 === 0) run.log(`pass ${pass}: ${n} GA messages looked at`);
          },
        });
        copied += r.copied;
        skipped += r.skipped;
        fromSeq = r.cursor.lastSeq + 1;
        run.log(
          `pass ${pass}: ${r.copied} carried, ${r.skipped} already on the pilot, up to GA sequence ${r.cursor.lastSeq}`,
        );
        if (r.copied <= SMALL_TAIL) break;
      }
      const pilotLastSeq = await lastSequence(pilot, stream);
      return { copied, skipped, gaLastSeq: fromSeq - 1, pilotLastSeq };
    },
  });
}

function carryDeltaStep() {
  return defineStep<ProcedureContext, CarryDeltaOutput>(ROLLBACK.carryDelta, {
    description:
      "Carry the GA messages published since the previous step; verify the pilot holds GA's last message",
    async action(ctx, run) {
      const { stream } = run.output(ROLLBACK.preflight);
      const bulk = run.output(ROLLBACK.carryGaMessages);
      const pilot = await ctx.client(ctx.opts.pilotStack);
      // Only messages carried by an earlier attempt of this step can be on the pilot already.
      const { ids } = await streamIds(pilot, stream, bulk.pilotLastSeq + 1);
      const r = await copyMessages(await ctx.client(ctx.opts.gaStack), pilot, stream, {
        fromSeq: bulk.gaLastSeq + 1,
        skipIds: ids,
      });
      run.log(`${r.copied} carried, up to GA sequence ${r.cursor.lastSeq}`);
      return {
        copied: r.copied,
        skipped: r.skipped,
        gaLastSeq: r.cursor.lastSeq,
        gaLastId: r.cursor.lastId ?? "",
      };
    },
    async check(ctx, _output, run) {
      const { stream } = run.output(ROLLBACK.preflight);
      const [ga, pilot] = await Promise.all([
        tail(ctx, ctx.opts.gaStack, stream),
        tail(ctx, ctx.opts.pilotStack, stream),
      ]);
      // Both streams are quiet now; GA's last message was carried last, so it ends the pilot too,
      // unless GA took nothing new since the cutover (then it is a pre-cutover message).
      if (ga.lastId === pilot.lastId) return;
      const { ids } = await streamIds(await ctx.client(ctx.opts.pilotStack), stream);
      if (!ids.has(ga.lastId)) {
        throw new Error(
          `the pilot lacks GA's last message "${ga.lastId}": publishers are still paused; look before going on`,
        );
      }
    },
  });
}

function verifyPilotCompleteStep() {
  return defineStep(ROLLBACK.verifyPilotComplete, {
    description: "Every message of the GA stream is on the pilot (full comparison of ids)",
    async action(ctx: ProcedureContext, run) {
      const { stream } = run.output(ROLLBACK.preflight);
      const [ga, pilot] = await Promise.all([
        streamIds(await ctx.client(ctx.opts.gaStack), stream),
        streamIds(await ctx.client(ctx.opts.pilotStack), stream),
      ]);
      const missing = [...ga.ids].filter((id) => !pilot.ids.has(id));
      if (missing.length > 0) {
        throw new Error(
          `${missing.length} GA messages are not on the pilot (e.g. ${missing.slice(0, 3).join(", ")}): run with --resume to carry them again before stopping GA`,
        );
      }
      run.log(`all ${ga.ids.size} GA messages are on the pilot (${pilot.ids.size} there)`);
      return { gaMessages: ga.ids.size, pilotMessages: pilot.ids.size };
    },
  });
}

function replicasDownStep() {
  return defineStep<ProcedureContext, ReplicasDownOutput>(ROLLBACK.replicasDown, {
    runbook: "rollback 2",
    description:
      "Lower the GA stream to R1 where the metadata allows it (every peer online); skipped otherwise",
    async action(ctx, run) {
      const { stream } = run.output(ROLLBACK.preflight);
      const ga = await ctx.client(ctx.opts.gaStack);
      const snap = await streamSnapshotInfo(ga, stream);
      const notCurrent = (snap.cluster?.replicas ?? []).filter((r) => !replicaCurrent(r)).map((r) => r.name);
      if (snap.config.num_replicas <= 1) return { replicas: snap.config.num_replicas, changed: false };
      if (snap.cluster?.leader === undefined || notCurrent.length > 0) {
        run.log(
          `skipped: leader ${snap.cluster?.leader ?? "(none)"}, not current: ${notCurrent.join(", ") || "-"}`,
        );
        return { replicas: snap.config.num_replicas, changed: false, skipped: true };
      }
      const r = await changeReplicas(ga, stream, 1, {
        timeoutMs: ctx.opts.timeoutMs,
        onProgress: (p) => run.log(p.message),
      });
      return { replicas: r.after, changed: r.changed, keptOn: r.snapshot.cluster?.leader ?? "" };
    },
  });
}

function provisionStagingStep() {
  return defineStep(ROLLBACK.provisionStaging, {
    runbook: "rollback 5",
    description:
      "pulumi up on the staging stack (cluster disabled; its stream resource adopts the pilot's AKIRA_CDR at R1); the pilot's stream is checked afterwards",
    async action(ctx: ProcedureContext, run) {
      const { stream } = run.output(ROLLBACK.preflight);
      await ctx.forget(ctx.opts.pilotStack);
      const endpoint = await ctx.infra.up(ctx.opts.pilotStack, { onOutput: (line) => run.log(line) });
      const snap = await streamSnapshotInfo(await ctx.client(ctx.opts.pilotStack), stream);
      const verified = run.output(ROLLBACK.verifyPilotComplete);
      if (snap.state.messages < verified.pilotMessages) {
        throw new Error(
          `the pilot holds ${snap.state.messages} messages after pulumi up, ${verified.pilotMessages} before: restore from the GA backup (akira-nats stream restore ${run.output(ROLLBACK.backupGa).dir})`,
        );
      }
      return { natsUrl: endpoint.natsUrl, messages: snap.state.messages };
    },
  });
}
