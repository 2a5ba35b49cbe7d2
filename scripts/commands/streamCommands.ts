/**
 * `akira-nats stream backup|restore|info|ls`: the `nats stream …` commands the runbook uses, with
 * backups in the natscli layout (each tool restores the other's backups).
 */
import type { Command } from "commander";
import type { NatsConnection } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { jsApiRequest, type StreamInfoJson, streamInfoRaw } from "../../components/jetstream/jsApiRequest";
import { releaseStream } from "../../components/jetstream/quarantine";
import { type RestoreResult, restoreStream } from "../../components/jetstream/restore";
import { backupStream } from "../../components/jetstream/snapshot";
import { assertStreamName, MAX_REPLICAS, validReplicas } from "../../components/jetstream/streamRules";
import { type ConnectionFlags, connectionTarget, withConnectionFlags } from "../cli/connectionFlags";
import { whileWatchingInterrupts } from "../cli/interrupt";
import { formatBytes, formatCount, formatDuration, renderJson, renderTable } from "../cli/output";
import { createProgress } from "../cli/progress";
import { UsageError } from "../cli/usageError";
import { systemTarget } from "../ops/systemTarget";
import { verifyBackupAgainstStream } from "../ops/verifyBackup";

interface JsonFlag {
  json?: boolean;
}

async function withConnection<T>(flags: ConnectionFlags, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connectNats({ ...connectionTarget(flags), name: "akira-nats stream" });
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

/** The restore's one result line: what came back, what was checked, and what was not. */
function restoredLine(r: RestoreResult, dir: string): string {
  const checked = [
    `matching backup.json${r.note ? ` (plus ${r.note})` : ""}`,
    ...(r.consumersChecked > 0 ? [`${formatCount(r.consumersChecked)} consumer position(s) checked`] : []),
    ...(r.resumed ? ["restored by an earlier run and checked now"] : []),
  ].join(", ");
  const unchecked =
    r.serverStorageChecked || r.resumed
      ? ""
      : "; each server's storage was not checked first (pass --system-password or NATS_SYSTEM_PASSWORD)";
  return `Restored stream ${r.stream} (R${r.replicas}) from ${dir}: ${formatCount(r.messages)} messages, sequences ${seqRange(r.firstSeq, r.lastSeq)}, ${formatBytes(r.bytes)}, ${checked}, in ${formatDuration(r.durationMs)}${unchecked}\n`;
}

interface SystemFlags {
  systemUser?: string;
  systemPassword?: string;
}

/** The applications' connection, and the system account's when its password is known. */
async function withSystemConnection<T>(
  flags: ConnectionFlags & SystemFlags,
  fn: (nc: NatsConnection, sys: NatsConnection | undefined) => Promise<T>,
): Promise<T> {
  const sysTarget = systemTarget(connectionTarget(flags), flags);
  return withConnection(flags, async (nc) => {
    if (sysTarget === undefined) return fn(nc, undefined);
    const sys = await connectNats({ ...sysTarget, name: "akira-nats stream (system)" });
    try {
      return await fn(nc, sys);
    } finally {
      await sys.close();
    }
  });
}

/** `--replicas` as an integer 1–5, or a {@link UsageError} naming the flag. */
export function parseReplicas(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !validReplicas(n)) {
    throw new UsageError(`--replicas must be an integer from 1 to ${MAX_REPLICAS}, got "${value}"`);
  }
  return n;
}

function seqRange(first: number, last: number): string {
  return `${formatCount(first)}..${formatCount(last)}`;
}

export function registerStreamCommands(program: Command): void {
  const stream = program.command("stream").description("Back up, restore and inspect JetStream streams");
  registerBackup(stream);
  registerRestore(stream);
  registerVerify(stream);
  registerRelease(stream);
  registerInfo(stream);
  registerList(stream);
}

function registerBackup(stream: Command): void {
  withConnectionFlags(
    stream
      .command("backup")
      .description(
        "Back up a stream into an empty directory (backup.json + stream.tar.s2, as `nats stream backup`)",
      )
      .argument("<stream>", "stream name, e.g. AKIRA_CDR")
      .argument("<dir>", "target directory; created if missing, must be empty")
      .option("--no-consumers", "leave the stream's consumers out (default: included, as natscli does)")
      .option("--json", "print the result as JSON"),
  ).action(async (name: string, dir: string, flags: ConnectionFlags & JsonFlag & { consumers: boolean }) => {
    const bar = createProgress({ label: `backup ${name}`, enabled: flags.json ? false : undefined });
    const r = await whileWatchingInterrupts((signal) =>
      withConnection(flags, (nc) =>
        backupStream(nc, name, dir, {
          includeConsumers: flags.consumers,
          signal,
          onProgress: (p) => bar.update(Math.min(p.uncompressedBytes, p.bytesExpected), p.bytesExpected),
        }),
      ),
    ).finally(() => bar.finish());
    const consumers = r.consumersIncluded
      ? `, ${formatCount(r.consumers)} consumer(s) with their positions`
      : ", consumers left out";
    process.stdout.write(
      flags.json
        ? renderJson(r)
        : `Backed up stream ${r.stream} to ${r.dir}: ${formatCount(r.messages)} messages, sequences ${seqRange(r.firstSeq, r.lastSeq)}, ${formatBytes(r.bytes)} (stream.tar.s2 ${formatBytes(r.dataBytes)}, sha256 ${r.digests.data_sha256.slice(0, 12)}…)${consumers}, in ${formatDuration(r.durationMs)}\n`,
    );
  });
}

function registerRestore(stream: Command): void {
  withConnectionFlags(
    stream
      .command("restore")
      .description(
        "Restore a backup made by `akira-nats stream backup` or `nats stream backup`; refuses an existing stream",
      )
      .argument("<dir>", "backup directory")
      .option("--replicas <n>", "replicas of the restored stream (default: as backed up)")
      .option("--system-user <name>", "system-account user: check each server's storage first", "system")
      .option("--system-password <secret>", "its password (env NATS_SYSTEM_PASSWORD)")
      .option("--json", "print the result as JSON"),
  ).action(async (dir: string, flags: ConnectionFlags & JsonFlag & SystemFlags & { replicas?: string }) => {
    const replicas = parseReplicas(flags.replicas);
    const bar = createProgress({ label: "restore", enabled: flags.json ? false : undefined });
    const r = await whileWatchingInterrupts((signal) =>
      withSystemConnection(flags, (nc, systemConnection) =>
        restoreStream(nc, dir, {
          replicas,
          signal,
          systemConnection,
          onProgress: (p) => {
            if (p.phase === "upload") bar.update(p.bytesSent, p.bytesTotal);
            else bar.label(p.phase === "finalizing" ? "server unpacking" : "replicas catching up");
          },
        }),
      ),
    ).finally(() => bar.finish());
    process.stdout.write(flags.json ? renderJson(r) : restoredLine(r, dir));
  });
}

function registerVerify(stream: Command): void {
  withConnectionFlags(
    stream
      .command("verify")
      .description("Check a live stream against a backup: digests, state, every message read back, consumers")
      .argument("<dir>", "backup directory")
      .option("--json", "print the result as JSON"),
  ).action(async (dir: string, flags: ConnectionFlags & JsonFlag) => {
    const r = await withConnection(flags, (nc) => verifyBackupAgainstStream(nc, dir));
    const since = r.publishedSince > 0 ? `, plus ${formatCount(r.publishedSince)} published since` : "";
    const consumers =
      r.consumers === null
        ? ""
        : `, ${r.consumers.live} of the backup's ${r.consumers.backup} consumer(s) present`;
    process.stdout.write(
      flags.json
        ? renderJson(r)
        : `Stream ${r.stream} holds backup ${dir}: ${formatCount(r.readable)} messages read back${since}${consumers}${r.digestsChecked ? "" : " (a backup without digests: its files were not checked)"}\n`,
    );
  });
}

function registerRelease(stream: Command): void {
  withConnectionFlags(
    stream
      .command("release")
      .description("Give a stream quarantined by a failed restore check its subjects back, once checked")
      .argument("<stream>", "stream name"),
  ).action(async (name: string, flags: ConnectionFlags) => {
    assertStreamName(name);
    const subjects = await withConnection(flags, (nc) => releaseStream(nc, name));
    process.stdout.write(`Released stream ${name}: it takes ${subjects.join(", ")} again\n`);
  });
}

function registerInfo(stream: Command): void {
  withConnectionFlags(
    stream
      .command("info")
      .description("Configuration, state and replicas of a stream")
      .argument("<stream>", "stream name")
      .option("--json", "print the server's stream info as JSON"),
  ).action(async (name: string, flags: ConnectionFlags & JsonFlag) => {
    assertStreamName(name);
    const info = await withConnection(flags, (nc) => streamInfoRaw(nc, name));
    process.stdout.write(flags.json ? renderJson(info) : renderStreamInfo(info));
  });
}

function registerList(stream: Command): void {
  withConnectionFlags(
    stream
      .command("ls")
      .description("List the streams of the account")
      .option("--json", "print the list as JSON"),
  ).action(async (flags: ConnectionFlags & JsonFlag) => {
    const streams = await withConnection(flags, listStreams);
    if (flags.json) {
      process.stdout.write(renderJson(streams));
      return;
    }
    const rows = streams.map((s) => [
      s.config.name,
      s.config.storage ?? "file",
      s.config.num_replicas ?? 1,
      s.state.messages,
      formatBytes(s.state.bytes),
      s.state.first_seq,
      s.state.last_seq,
      s.cluster?.leader ?? "",
    ]);
    process.stdout.write(
      streams.length === 0
        ? "No streams defined\n"
        : renderTable(["Name", "Storage", "Replicas", "Messages", "Size", "First", "Last", "Leader"], rows),
    );
  });
}

async function listStreams(nc: NatsConnection): Promise<StreamInfoJson[]> {
  const all: StreamInfoJson[] = [];
  for (let offset = 0; ; ) {
    const page = await jsApiRequest<{ streams?: StreamInfoJson[]; total?: number; limit?: number }>(
      nc,
      "$JS.API.STREAM.LIST",
      { offset },
    );
    const got = page.streams ?? [];
    all.push(...got);
    offset += got.length;
    if (got.length === 0 || offset >= (page.total ?? 0)) break;
  }
  return all.sort((a, b) => a.config.name.localeCompare(b.config.name));
}

export function renderStreamInfo(info: StreamInfoJson): string {
  const c = info.config;
  const s = info.state;
  const lines = [
    `Stream ${c.name}`,
    `  Subjects:  ${(c.subjects ?? []).join(", ")}`,
    `  Storage:   ${c.storage ?? "file"}, ${c.num_replicas ?? 1} replica(s)`,
    `  Messages:  ${formatCount(s.messages)} (${formatBytes(s.bytes)}), sequences ${seqRange(s.first_seq, s.last_seq)}, ${formatCount(s.num_deleted ?? 0)} deleted`,
  ];
  if (info.cluster !== undefined) {
    lines.push(`  Cluster:   ${info.cluster.name ?? ""}, leader ${info.cluster.leader ?? "NONE"}`);
    for (const p of info.cluster.replicas ?? []) {
      const state = p.offline ? "OFFLINE" : p.current ? "current" : "outdated";
      lines.push(
        `  Replica:   ${p.name}, ${state}, seen ${formatDuration(p.active / 1e6)} ago, lag ${formatCount(p.lag ?? 0)}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
