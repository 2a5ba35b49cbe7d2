/**
 * `akira-nats rehearse --rolling-upgrade`: the rolling-upgrade rehearsal (scripts/rehearsal/
 * rollingUpgrade.ts) under the rehearse command's flags; writes its report beside the others.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  compareVersions,
  DEBIAN_BUILDS,
  OLDEST_PILOT_NATS_VERSION,
  PINNED_NATS_VERSION,
} from "../../components/jetstream/serverLines";
import { natsServerBinFor } from "../local/natsServerBin";
import { rehearseRollingUpgrade } from "./rollingUpgrade";
import { formatRollingUpgradeReport, REPORT_FILE, type RollingUpgradeProgress } from "./rollingUpgradeReport";

export interface RollingUpgradeCommandOptions {
  readonly reportDir: string;
  readonly ratePerSec: number;
  readonly ports: "vm" | "random";
  readonly minMessages?: number;
  readonly minDurationSec?: number;
  readonly json: boolean;
  readonly write?: (text: string) => void;
  /** Default: the oldest pilot line ({@link defaultRollPair}). */
  readonly fromNatsServer?: string;
  /** Default: the next line installed above it ({@link defaultRollPair}). */
  readonly toNatsServer?: string;
  readonly force?: boolean;
  readonly forceDowngrade?: boolean;
  /** Lame-duck grace period of the nodes; default the rendered config's. */
  readonly lameDuckGracePeriod?: string;
}

/**
 * The default pair: the oldest pilot line (Debian's 2.9.10) and the next line this machine has
 * (2.10.27 after bin/setup), a roll within the support policy. The jump to the pinned line skips
 * minor lines that Debian does not carry and needs `--to-nats-server … --force`.
 */
export function defaultRollPair(): { from: string; to: string } {
  const from = natsServerBinFor(OLDEST_PILOT_NATS_VERSION);
  const above = [...Object.keys(DEBIAN_BUILDS), PINNED_NATS_VERSION]
    .filter((v) => compareVersions(v, OLDEST_PILOT_NATS_VERSION) > 0)
    .sort(compareVersions);
  for (const v of above) {
    try {
      return { from, to: natsServerBinFor(v) };
    } catch {
      // not installed here: try the next newer line
    }
  }
  throw new Error(
    `no nats-server newer than ${OLDEST_PILOT_NATS_VERSION} is installed: run bin/setup, or pass --to-nats-server PATH`,
  );
}

/** `rolling-upgrade: node-done node=nats-1 ms=1409 streamLeader=nats-2`. */
function progressLine(e: RollingUpgradeProgress): string {
  const { phase, ...rest } = e as { phase: string } & Record<string, unknown>;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`);
  return `rolling-upgrade: ${[phase, ...fields].join(" ")}`;
}

/** Runs the rehearsal; resolves with the exit code (1 on any loss or failed roll). */
export async function runRollingUpgradeRehearsal(opts: RollingUpgradeCommandOptions): Promise<number> {
  const write = opts.write ?? ((t: string) => process.stdout.write(t));
  const dir = resolve(opts.reportDir);
  mkdirSync(dir, { recursive: true });
  const report = await rehearseRollingUpgrade({
    dir: join(dir, "rolling-upgrade"),
    ports: opts.ports,
    ratePerSec: opts.ratePerSec,
    minMessages: opts.minMessages,
    minDurationSec: opts.minDurationSec,
    fromNatsServer: opts.fromNatsServer ?? defaultRollPair().from,
    toNatsServer: opts.toNatsServer ?? defaultRollPair().to,
    force: opts.force,
    forceDowngrade: opts.forceDowngrade,
    lameDuckGracePeriod: opts.lameDuckGracePeriod,
    onProgress: (e) =>
      write(opts.json ? `${JSON.stringify({ event: "rolling-upgrade", ...e })}\n` : `${progressLine(e)}\n`),
  });
  writeFileSync(join(dir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
  write(
    opts.json
      ? `${JSON.stringify({ event: "report", ...report })}\n`
      : `${formatRollingUpgradeReport(report)}\n`,
  );
  return report.ok ? 0 : 1;
}
