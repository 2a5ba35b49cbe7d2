/**
 * `akira-nats rehearse`: the cutover, an unplanned failover and the rollback on local nats-server
 * processes under live CDR traffic (see scripts/rehearsal/rehearse.ts). Exit 1 when a CDR was lost
 * or duplicated or a step failed.
 */
import { type Command, Option } from "commander";
import { parseDurationMs } from "../cli/duration";
import { UsageError } from "../cli/usageError";
import { rehearse } from "../rehearsal/rehearse";
import { runRollingUpgradeRehearsal } from "../rehearsal/rollingUpgradeCommand";

interface RehearseFlags {
  messages?: string;
  duration?: string;
  rate: string;
  report: string;
  keepRunning?: boolean;
  ports: string;
  json?: boolean;
  rollingUpgrade?: boolean;
  sabotage?: "skip-copy";
  pilotNatsServer?: string;
  gaNatsServer?: string;
  fromNatsServer?: string;
  toNatsServer?: string;
  force?: boolean;
  forceDowngrade?: boolean;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive whole number, got "${value}"`);
  return n;
}

export function registerRehearse(program: Command): void {
  program
    .command("rehearse")
    .description(
      "Rehearse cutover, failover and rollback on local nats-server processes under CDR traffic; exit 1 on any loss",
    )
    .option("--messages <n>", "CDRs to publish (at least; the run lasts until the procedure is done)", "3000")
    .option("--duration <d>", "publish for at least this long instead, e.g. 90s or 5m")
    .option("--rate <r>", "CDRs per second", "100")
    .option("--report <dir>", "where report.json, timeline.svg and the servers' files go", ".rehearsal")
    .option(
      "--keep-running",
      "leave the final pilot running; report.json gets its URLs, user, password and pids",
    )
    .option("--ports <mode>", "auto (VM ports 4222/6222/8222 when free), vm or random", "auto")
    .option(
      "--pilot-nats-server <path>",
      "nats-server binary of the pilot (default: $NATS_SERVER_BIN, else the pinned line from bin/setup)",
    )
    .option(
      "--ga-nats-server <path>",
      "nats-server binary of the GA nodes (default: $NATS_SERVER_BIN, else the pinned line from bin/setup)",
    )
    .option("--rolling-upgrade", "rehearse a rolling upgrade of the GA cluster instead")
    .option(
      "--from-nats-server <path>",
      "with --rolling-upgrade: the binary the cluster starts on (default: the oldest pilot line, Debian's 2.9.10)",
    )
    .option(
      "--to-nats-server <path>",
      "with --rolling-upgrade: the binary rolled out (default: the pinned line)",
    )
    .option("--force", "with --rolling-upgrade: roll an upgrade that skips a minor line")
    .option(
      "--force-downgrade",
      "with --rolling-upgrade: roll back down even across a minor line (outside NATS's support policy)",
    )
    .option("--json", "JSON lines instead of text")
    // Proves the rehearsal notices a loss: the copy since the backup is left out of the cutover.
    .addOption(
      new Option("--sabotage <what>", "break the cutover on purpose").choices(["skip-copy"]).hideHelp(),
    )
    .action(runRehearseCommand);
}

async function runRehearseCommand(flags: RehearseFlags, cmd: Command): Promise<void> {
  const explicitMessages = cmd.getOptionValueSource("messages") === "cli";
  if (explicitMessages && flags.duration !== undefined) {
    throw new UsageError("--messages and --duration exclude each other: give one of them");
  }
  if (!["auto", "vm", "random"].includes(flags.ports)) {
    throw new UsageError(`--ports must be auto, vm or random, got "${flags.ports}"`);
  }
  const rate = positiveInt(flags.rate, "--rate");
  const durationMs = flags.duration === undefined ? undefined : parseDurationMs(flags.duration, "--duration");
  if (flags.rollingUpgrade) {
    process.exitCode = await runRollingUpgradeRehearsal({
      reportDir: flags.report,
      ratePerSec: rate,
      ports: flags.ports === "vm" ? "vm" : "random",
      minMessages: explicitMessages ? positiveInt(flags.messages ?? "", "--messages") : undefined,
      minDurationSec: durationMs === undefined ? undefined : durationMs / 1000,
      json: flags.json === true,
      fromNatsServer: flags.fromNatsServer,
      toNatsServer: flags.toNatsServer,
      force: flags.force === true,
      forceDowngrade: flags.forceDowngrade === true,
    });
    return;
  }
  const report = await rehearse({
    messages: durationMs === undefined ? positiveInt(flags.messages ?? "3000", "--messages") : 1,
    durationMs,
    ratePerSec: rate,
    reportDir: flags.report,
    keepRunning: flags.keepRunning === true,
    ports: flags.ports as "auto" | "vm" | "random",
    json: flags.json === true,
    skipCopySinceBackup: flags.sabotage === "skip-copy",
    pilotNatsServer: flags.pilotNatsServer,
    gaNatsServer: flags.gaNatsServer,
  });
  process.exitCode = report.ok ? 0 : 1;
}
