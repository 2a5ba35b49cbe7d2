/** Checks shared by the cutover's and the rollback's first step. */
import { mkdirSync } from "node:fs";
import type { NatsConnection } from "nats";
import { loadStackConfig, type StackConfig } from "../../components/config/config";
import { streamSnapshotInfo } from "../../components/jetstream/streams";
import { freeBytes, type ProcedureContext } from "./context";
import type { Infra } from "./infra";
import { type PilotVersionVerdict, pilotVersionVerdict, runningVersion } from "./pilotVersion";
import type { StepRun } from "./steps";

/** Headroom kept free beside a backup: the compressed backup is smaller, but the disk is shared. */
export const BACKUP_HEADROOM_BYTES = 64 * 1024 * 1024;

/**
 * The stack's config, validated by the same rules as `pulumi up` (placeholders, secrets, ranges):
 * a `ConfigError` lists every issue with the command that fixes it.
 */
export async function checkStackConfig(
  infra: Infra,
  stack: string,
  mode: StackConfig["mode"],
): Promise<StackConfig> {
  const raw = await infra.readConfig(stack);
  const config = loadStackConfig((key) => raw[key]);
  if (config.mode !== mode) {
    throw new Error(
      `stack ${stack} has mode "${config.mode}", expected "${mode}": select the right stack (pulumi config set akira-nats:mode ${mode} --stack ${stack} if it is really that one)`,
    );
  }
  return config;
}

/** The stream's size, and that the disk under `dir` holds a backup of it with headroom. */
export async function checkBackupSpace(
  nc: NatsConnection,
  stream: string,
  dir: string,
): Promise<{ streamBytes: number; messages: number; lastSeq: number; freeBytes: number }> {
  const info = await streamSnapshotInfo(nc, stream);
  mkdirSync(dir, { recursive: true });
  const free = freeBytes(dir);
  const need = info.state.bytes + BACKUP_HEADROOM_BYTES;
  if (free < need) {
    throw new Error(
      `not enough disk for the backup of ${stream} under ${dir}: ${free} bytes free, ${need} needed (stream ${info.state.bytes} bytes + ${BACKUP_HEADROOM_BYTES} headroom); free space or use --state-dir on a larger disk`,
    );
  }
  return {
    streamBytes: info.state.bytes,
    messages: info.state.messages,
    lastSeq: info.state.lastSeq,
    freeBytes: free,
  };
}

/** The pilot's running nats-server against the staging pin: logged, refused outside the policy. */
export async function checkPilotVersion(
  ctx: ProcedureContext,
  staging: StackConfig,
  run: StepRun,
): Promise<PilotVersionVerdict> {
  const stack = ctx.opts.pilotStack;
  const verdict = pilotVersionVerdict(await runningVersion(await ctx.system(stack)), staging, stack);
  run.log(`pilot runs nats-server ${verdict.running} (its /varz); ${stack} pins ${verdict.pinned}`);
  if (verdict.warning !== undefined) run.log(`warning: ${verdict.warning}`);
  return verdict;
}
