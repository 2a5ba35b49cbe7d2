/**
 * `akira-nats server list` (runbook step 7: every node up, routed, JetStream on) and
 * `akira-nats server check stream` (a Nagios check: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
 */
import type { Command, CommanderError } from "commander";
import { connectNats } from "../../components/jetstream/connection";
import { listServers, type ServerSummary, TooFewServersError } from "../../components/jetstream/servers";
import { checkStream, type StreamCheckResult, unknownResult } from "../../components/jetstream/streamCheck";
import { assertStreamName } from "../../components/jetstream/streamRules";
import { type ConnectionFlags, connectionTarget, withConnectionFlags } from "../cli/connectionFlags";
import { parseDurationMs, parseDurationOrMs } from "../cli/duration";
import { formatDuration, renderJson, renderTable } from "../cli/output";
import { UsageError } from "../cli/usageError";

/** A non-negative integer flag, or a {@link UsageError} naming it. */
export function parseCount(value: string | undefined, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(`${flag} must be an integer of at least ${min}, got "${value}"`);
  }
  return Number(value);
}

export function renderServers(servers: readonly ServerSummary[]): string {
  const rows = servers.map((s) => [
    s.name,
    s.cluster,
    s.host,
    s.version,
    s.jetstream,
    s.connections,
    s.routes,
    formatDuration(s.uptimeMs),
  ]);
  const clusters = new Set(servers.map((s) => s.cluster).filter((c) => c !== ""));
  const footer = [
    "",
    clusters.size,
    servers.length,
    "",
    servers.filter((s) => s.jetstream).length,
    servers.reduce((n, s) => n + s.connections, 0),
    "",
    "",
  ];
  return renderTable(["Name", "Cluster", "Host", "Version", "JS", "Conns", "Routes", "Uptime"], rows, {
    title: "Server Overview",
    footer,
  });
}

function registerList(server: Command): void {
  withConnectionFlags(
    server
      .command("list")
      .alias("ls")
      .description("List the servers through the system account (use --user system), like `nats server list`")
      .option("--expect <n>", "fail unless this many servers answer")
      .option("--wait <duration>", "how long to wait for answers: a duration (3s) or milliseconds", "3000")
      .option("--json", "print the servers as JSON"),
  ).action(async (flags: ConnectionFlags & { expect?: string; wait: string; json?: boolean }) => {
    const expect = parseCount(flags.expect, "--expect", 1);
    const timeoutMs = parseDurationOrMs(flags.wait, "--wait");
    try {
      const servers = await listServers(connectionTarget(flags), { expect, timeoutMs });
      process.stdout.write(
        flags.json ? renderJson({ servers, expected: expect ?? null }) : renderServers(servers),
      );
    } catch (err) {
      if (err instanceof TooFewServersError && err.servers.length > 0) {
        process.stdout.write(
          flags.json
            ? renderJson({ servers: err.servers, expected: expect ?? null })
            : renderServers(err.servers),
        );
      }
      throw err;
    }
  });
}

interface CheckFlags extends ConnectionFlags {
  stream: string;
  deadline: string;
  peerExpect?: string;
  lagCritical?: string;
  seenCritical?: string;
}

/** Flags that cannot be parsed, unreachable servers, a refused password: UNKNOWN (3). */
async function runStreamCheck(flags: CheckFlags): Promise<StreamCheckResult> {
  let opts: Parameters<typeof checkStream>[1];
  let target: ReturnType<typeof connectionTarget>;
  try {
    assertStreamName(flags.stream);
    opts = {
      stream: flags.stream,
      peerExpect: parseCount(flags.peerExpect, "--peer-expect", 1),
      lagCritical: parseCount(flags.lagCritical, "--lag-critical"),
      seenCriticalMs:
        flags.seenCritical === undefined ? undefined : parseDurationMs(flags.seenCritical, "--seen-critical"),
    };
    target = connectionTarget(flags);
  } catch (err) {
    return unknownResult(flags.stream, (err as Error).message);
  }
  let nc: Awaited<ReturnType<typeof connectNats>>;
  try {
    nc = await connectNats({ ...target, name: "akira-nats server check" });
  } catch (err) {
    return unknownResult(flags.stream, (err as Error).message);
  }
  try {
    return await checkStream(nc, opts);
  } finally {
    await nc.close();
  }
}

/**
 * A Nagios check must answer within its scheduler's timeout, whatever the server does (one that
 * accepts the connection and never speaks, say): past `--deadline`, the check is UNKNOWN.
 */
async function withDeadline(
  flags: CheckFlags,
  check: Promise<StreamCheckResult>,
): Promise<StreamCheckResult> {
  let deadlineMs: number;
  try {
    deadlineMs = parseDurationMs(flags.deadline, "--deadline");
  } catch (err) {
    return unknownResult(flags.stream, (err as Error).message);
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<StreamCheckResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve(unknownResult(flags.stream, `check did not finish within ${flags.deadline} (--deadline)`)),
      deadlineMs,
    );
  });
  try {
    return await Promise.race([check, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function registerCheck(server: Command): void {
  const check = server
    .command("check")
    .description("Nagios checks (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)");
  const cmd = withConnectionFlags(
    check
      .command("stream")
      .description("Check a stream's leader, replicas, lag and last-seen, like `nats server check stream`")
      .requiredOption("--stream <name>", "stream to check, e.g. AKIRA_CDR")
      .option("--peer-expect <n>", "leader plus replicas expected (default: the stream's replicas)")
      .option("--lag-critical <n>", "CRITICAL when a replica lags more operations than this")
      .option("--seen-critical <duration>", "CRITICAL when a replica was last seen longer ago, e.g. 10s")
      .option("--deadline <duration>", "UNKNOWN (exit 3) when the whole check takes longer", "20s"),
  );
  // Nagios wants the status on stdout and exit 3 even for flags commander rejects.
  cmd
    .showHelpAfterError(false)
    .configureOutput({ outputError: () => {} })
    .exitOverride((err: CommanderError) => {
      if (err.exitCode === 0) throw err;
      const message = err.message.replace(/^error: /, "");
      process.stdout.write(`${unknownResult("", message).line}\n`);
      throw Object.assign(new Error(message), { exitCode: 3 });
    })
    .action(async (flags: CheckFlags) => {
      const result = await withDeadline(flags, runStreamCheck(flags));
      process.stdout.write(`${result.line}\n`);
      process.exitCode = result.status;
    });
}

export function registerServerCommands(program: Command): void {
  const server = program.command("server").description("Servers of the cluster: list, checks");
  registerList(server);
  registerCheck(server);
}
