/**
 * `akira-nats monitor` (runbook step 11): watch the cluster's monitoring endpoints for a day after
 * the cutover. Alert lines go to stderr as they happen; exit 1 when any alert was raised.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import type { Command } from "commander";
import { serverList } from "../../components/jetstream/connection";
import { parseDurationMs } from "../cli/duration";
import { UsageError } from "../cli/usageError";
import { runMonitor } from "../ops/monitor";
import { DEFAULT_THRESHOLDS, type MonitorThresholds } from "../ops/monitorAlerts";
import { renderLiveView, renderStatusLine, renderSummary } from "../ops/monitorView";

interface MonitorFlags {
  stream: string;
  duration: string;
  interval: string;
  json?: string;
  monitor?: string;
  server?: string;
  monitorPort: string;
  maxPending: string;
  maxAckPending: string;
  growthPolls: string;
  storagePercent: string;
  maxReplicaLag: string;
  confirm: string;
  exitOnAlert?: boolean;
  consumers?: string;
}

/**
 * `--monitor` URLs as given; otherwise the host of every client URL (`-s`/NATS_URL) with the
 * monitoring port: on GA the nodes listen for monitoring on their private address, so derive
 * only where that address is what `-s` names (on a node, inside the private network).
 */
export function monitorUrls(
  flags: { monitor?: string; server?: string; monitorPort?: string },
  env = process.env,
): string[] {
  if (flags.monitor !== undefined) {
    const urls = serverList(flags.monitor);
    for (const u of urls) {
      if (!/^https?:\/\/[^/\s]+\/?$/.test(u)) {
        throw new UsageError(`--monitor takes URLs such as http://10.0.1.11:8222, got "${u}"`);
      }
    }
    if (urls.length === 0) throw new UsageError("--monitor needs at least one URL");
    return urls;
  }
  const port = flags.monitorPort ?? "8222";
  const servers = serverList(flags.server ?? env.NATS_URL ?? "nats://127.0.0.1:4222");
  return servers.map((s) => {
    let host: string;
    try {
      host = new URL(s.includes("://") ? s : `nats://${s}`).hostname;
    } catch {
      throw new UsageError(
        `cannot derive a monitoring URL from server "${s}": pass --monitor http://HOST:8222,…`,
      );
    }
    return `http://${host}:${port}`;
  });
}

function positive(value: string, flag: string, integer = true): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `${flag} must be a ${integer ? "non-negative integer" : "non-negative number"}, got "${value}"`,
    );
  }
  return n;
}

/** A share of something, 0 to 100: anything above can never be reached, so it would never alert. */
function percent(value: string, flag: string): number {
  const n = positive(value, flag, false);
  if (n > 100) throw new UsageError(`${flag} must be a percentage from 0 to 100, got "${value}"`);
  return n;
}

export function registerMonitor(program: Command): void {
  const d = DEFAULT_THRESHOLDS;
  program
    .command("monitor")
    .description("Watch every node's /healthz, /jsz and /varz; alert on backlog, storage, replicas, health")
    .requiredOption("--stream <name>", "the stream to watch, e.g. AKIRA_CDR")
    .option("--duration <duration>", "how long to watch", "24h")
    .option("--interval <duration>", "time between polls", "30s")
    .option("--json <file>", "write one JSON line per poll (and the summary) to FILE, or - for stdout")
    .option(
      "--monitor <urls>",
      "monitoring URLs, comma-separated (default: the -s hosts with --monitor-port)",
    )
    .option("-s, --server <urls>", "NATS URLs to derive monitoring URLs from (env NATS_URL)")
    .option("--monitor-port <port>", "monitoring port for derived URLs", "8222")
    .option("--max-pending <n>", "alert when a consumer's num_pending exceeds this", String(d.maxPending))
    .option(
      "--max-ack-pending <n>",
      "alert when a consumer's num_ack_pending exceeds this",
      String(d.maxAckPending),
    )
    .option(
      "--growth-polls <n>",
      "alert when a consumer backlog grows on this many polls in a row",
      String(d.growthPolls),
    )
    .option(
      "--storage-percent <p>",
      "alert when JetStream storage use exceeds this % of max",
      String(d.storagePercent),
    )
    .option(
      "--max-replica-lag <n>",
      "alert when a replica lags more operations than this",
      String(d.maxReplicaLag),
    )
    .option("--confirm <n>", "polls a condition must hold before it alerts", String(d.confirmPolls))
    .option("--consumers <names>", "watch only these consumers, comma-separated (default: all)")
    .option("--exit-on-alert", "stop at the first alert")
    .action(runMonitorCommand);
}

/** The thresholds the flags set, each checked with its flag's name. */
function thresholdsOf(flags: MonitorFlags): MonitorThresholds {
  return {
    maxPending: positive(flags.maxPending, "--max-pending"),
    maxAckPending: positive(flags.maxAckPending, "--max-ack-pending"),
    growthPolls: positive(flags.growthPolls, "--growth-polls"),
    storagePercent: percent(flags.storagePercent, "--storage-percent"),
    maxReplicaLag: positive(flags.maxReplicaLag, "--max-replica-lag"),
    confirmPolls: Math.max(1, positive(flags.confirm, "--confirm")),
  };
}

/** `--json FILE` (appended) or `-` (stdout): one JSON line per poll and the summary. */
function jsonSink(flags: MonitorFlags): { write(value: unknown): void; toStdout: boolean; close(): void } {
  const toStdout = flags.json === "-";
  const fd = flags.json !== undefined && !toStdout ? openSync(flags.json, "a") : undefined;
  return {
    toStdout,
    write(value) {
      const line = `${JSON.stringify(value)}\n`;
      if (toStdout) process.stdout.write(line);
      else if (fd !== undefined) writeSync(fd, line);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
    },
  };
}

async function runMonitorCommand(flags: MonitorFlags): Promise<void> {
  const durationMs = parseDurationMs(flags.duration, "--duration");
  const intervalMs = parseDurationMs(flags.interval, "--interval");
  if (intervalMs < 100) throw new UsageError(`--interval must be at least 100ms, got "${flags.interval}"`);
  const thresholds = thresholdsOf(flags);
  const urls = monitorUrls(flags);
  const json = jsonSink(flags);
  const live = process.stdout.isTTY === true && !json.toStdout;
  const header = `akira-nats monitor ${flags.stream}: ${urls.join(", ")} every ${flags.interval} for ${flags.duration} (Ctrl-C ends with a summary)`;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  try {
    const summary = await runMonitor({
      monitorUrls: urls,
      stream: flags.stream,
      durationMs,
      intervalMs,
      thresholds,
      exitOnAlert: flags.exitOnAlert,
      consumers: flags.consumers === undefined ? undefined : serverList(flags.consumers),
      signal: abort.signal,
      onAlert: (a, state) => {
        process.stderr.write(state === "raised" ? `${a.line}\n` : `RESOLVED ${a.kind} ${a.subject}\n`);
      },
      onSample: (sample, active) => {
        json.write(sample);
        if (live) process.stdout.write(`\x1b[H\x1b[2J${renderLiveView(sample, active, header)}`);
        else if (!json.toStdout) process.stdout.write(renderStatusLine(sample, active));
      },
    });
    json.write({ summary });
    if (!json.toStdout) process.stdout.write(renderSummary(summary));
    if (!summary.ok) process.exitCode = 1;
  } finally {
    process.off("SIGINT", onSigint);
    json.close();
  }
}
