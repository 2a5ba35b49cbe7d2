/**
 * `checkStream`: a Nagios check of one stream's cluster health, shaped like
 * `nats server check stream` (jsm.go `monitor.StreamHealthCheck` / `streamCheckCluster`): one line
 * `<STATUS> <stream> Crit:… Warn:… OK:… | perfdata` and the exit codes 0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN.
 *
 * Checks, in natscli's order: a leader; leader + replicas == the expected peers; no replica
 * offline; replica lag above `--lag-critical`; replica last seen longer ago than `--seen-critical`.
 * natscli does not look at a replica's `current` flag; we do (runbook: "replicas current"), as a
 * WARNING, since a replica briefly falls behind under load.
 */

import type { NatsConnection } from "nats";
import { StreamNotFoundError } from "./errors";
import { replicaCurrent } from "./health";
import { clusterOf, type StreamInfoJson, streamInfoRaw } from "./jsApiRequest";
import { quarantineOf } from "./quarantine";

export type NagiosStatus = 0 | 1 | 2 | 3;
export const NAGIOS_LABEL = ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const;

export interface StreamCheckOptions {
  readonly stream: string;
  /** Leader plus replicas expected. Default: the stream's configured replicas. */
  readonly peerExpect?: number;
  /** CRITICAL when a replica lags more than this many operations. Default: not checked. */
  readonly lagCritical?: number;
  /** CRITICAL when a replica was last seen longer ago than this (ms). Default: not checked. */
  readonly seenCriticalMs?: number;
  readonly timeoutMs?: number;
}

export interface StreamCheckResult {
  readonly status: NagiosStatus;
  readonly line: string;
}

/** Collects findings like jsm.go's `monitor.Result` and renders its Nagios line. */
class CheckResult {
  readonly crit: string[] = [];
  readonly warn: string[] = [];
  readonly ok: string[] = [];
  readonly perf: string[] = [];
  constructor(readonly name: string) {}

  render(): StreamCheckResult {
    const status: NagiosStatus = this.crit.length > 0 ? 2 : this.warn.length > 0 ? 1 : 0;
    const parts = [
      NAGIOS_LABEL[status],
      this.name,
      ...this.crit.map((c) => `Crit:${c}`),
      ...this.warn.map((w) => `Warn:${w}`),
      ...this.ok.map((o) => `OK:${o}`),
    ];
    const perf = this.perf.length > 0 ? ` | ${this.perf.join(" ")}` : "";
    return { status, line: `${parts.join(" ")}${perf}` };
  }
}

/** UNKNOWN with a reason: the check itself could not run (bad flags, unreachable servers). */
export function unknownResult(stream: string, reason: string): StreamCheckResult {
  return { status: 3, line: `UNKNOWN ${stream || "stream"} ${reason}` };
}

/** Runs the check over `nc` (a client connection of the stream's account). */
export async function checkStream(nc: NatsConnection, opts: StreamCheckOptions): Promise<StreamCheckResult> {
  let info: StreamInfoJson;
  try {
    info = await streamInfoRaw(nc, opts.stream, opts.timeoutMs ?? 5000);
  } catch (err) {
    const r = new CheckResult(opts.stream);
    r.crit.push(
      err instanceof StreamNotFoundError
        ? "stream not found"
        : `could not load info: ${(err as Error).message}`,
    );
    return r.render();
  }
  return evaluateStream(info, opts);
}

/** The pure part of {@link checkStream}: findings from a stream info. */
export function evaluateStream(info: StreamInfoJson, opts: StreamCheckOptions): StreamCheckResult {
  const r = new CheckResult(opts.stream);
  // A quarantined stream holds what a restore could not vouch for: never OK, whatever its replicas.
  const quarantined = quarantineOf(info.config);
  if (quarantined !== undefined) {
    r.crit.push(
      `quarantined by a restore that did not match its backup (akira-nats stream release ${opts.stream} once checked)`,
    );
    return r.render();
  }
  const expected = opts.peerExpect ?? info.config.num_replicas ?? 1;
  const cluster = clusterOf(info.cluster);
  const replicas = cluster?.replicas ?? [];
  if (cluster === undefined || (cluster.leader === undefined && replicas.length === 0 && expected === 1)) {
    // A single, non-clustered server (the pilot) has no cluster block or only its own name.
    if (expected > 1) r.crit.push("Stream is not clustered");
    else r.ok.push("1 peers");
    return r.render();
  }
  if (!cluster.leader) {
    r.crit.push("No leader");
    return r.render();
  }
  const peers = replicas.length + 1;
  r.perf.push(`peers=${peers};;${expected}`);
  if (peers !== expected) {
    r.crit.push(`Expected ${expected} replicas got ${peers}`);
    return r.render();
  }
  r.ok.push(`${peers} peers`);

  const offline = replicas.filter((p) => p.offline === true);
  const online = replicas.filter((p) => p.offline !== true);
  // Flagged not current by the leader, whatever its lag (lag has its own threshold above).
  const notCurrent = online.filter((p) => !replicaCurrent(p, Number.POSITIVE_INFINITY));
  const lagged =
    opts.lagCritical === undefined ? [] : online.filter((p) => (p.lag ?? 0) > (opts.lagCritical as number));
  const inactive =
    opts.seenCriticalMs === undefined
      ? []
      : online.filter((p) => p.active / 1e6 > (opts.seenCriticalMs as number));
  r.perf.push(`offline=${offline.length}`, `not_current=${notCurrent.length}`);

  if (offline.length > 0) r.crit.push(`${offline.length} replicas offline (${names(offline)})`);
  if (lagged.length > 0) r.crit.push(`${lagged.length} replicas lagged (${names(lagged)})`);
  if (inactive.length > 0) r.crit.push(`${inactive.length} replicas inactive (${names(inactive)})`);
  if (notCurrent.length > 0) r.warn.push(`${notCurrent.length} replicas not current (${names(notCurrent)})`);
  if (offline.length === 0 && notCurrent.length === 0 && lagged.length === 0)
    r.ok.push("replicas are current");
  if (opts.seenCriticalMs !== undefined && inactive.length === 0 && offline.length === 0) {
    r.ok.push("replicas are active");
  }
  return r.render();
}

function names(peers: readonly { readonly name: string }[]): string {
  return peers.map((p) => p.name).join(", ");
}
