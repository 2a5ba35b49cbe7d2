/**
 * `akira-nats rehearse --rolling-upgrade`: the rolling-upgrade rehearsal (scripts/rehearsal/
 * rollingUpgrade.ts) under the rehearse command's flags; writes its report beside the others.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  formatRollingUpgradeReport,
  REPORT_FILE,
  type RollingUpgradeProgress,
  rehearseRollingUpgrade,
} from "./rollingUpgrade";

export interface RollingUpgradeCommandOptions {
  readonly reportDir: string;
  readonly ratePerSec: number;
  readonly ports: "vm" | "random";
  readonly minMessages?: number;
  readonly minDurationSec?: number;
  readonly json: boolean;
  readonly write?: (text: string) => void;
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
