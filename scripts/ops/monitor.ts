/**
 * The watch after the cutover (runbook step 11): poll every node's monitoring endpoints at a fixed
 * interval for a fixed time, raise alerts when thresholds are crossed, and sum the run up.
 */
import { type Alert, AlertTracker, DEFAULT_THRESHOLDS, type MonitorThresholds } from "./monitorAlerts";
import { pollNode } from "./monitorPoll";
import { type BacklogHistory, buildSample, type MonitorSample } from "./monitorSample";

export interface MonitorOptions {
  /** Monitoring URLs of every node, e.g. `http://10.0.1.11:8222`. */
  readonly monitorUrls: readonly string[];
  readonly stream: string;
  /** How long to watch. The runbook's watch is 24 h. */
  readonly durationMs: number;
  /** Time between polls. */
  readonly intervalMs: number;
  /** Defaults: {@link DEFAULT_THRESHOLDS}. */
  readonly thresholds?: Partial<MonitorThresholds>;
  /** Watch only these consumers. Default: every consumer of the stream. */
  readonly consumers?: readonly string[];
  /** Stop at the first alert instead of watching on. Default false. */
  readonly exitOnAlert?: boolean;
  /** Stops the watch early (Ctrl-C); the summary still comes. */
  readonly signal?: AbortSignal;
  readonly onSample?: (sample: MonitorSample, active: readonly Alert[]) => void;
  readonly onAlert?: (alert: Alert, state: "raised" | "resolved") => void;
}

export interface ConsumerExtremes {
  readonly maxPending: number;
  readonly maxAckPending: number;
  readonly maxTrendPerMin: number;
}

export interface MonitorSummary {
  readonly ok: boolean;
  readonly stream: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly polls: number;
  /** Why the watch ended. */
  readonly ended: "duration" | "alert" | "interrupted";
  readonly alerts: readonly Alert[];
  /** Alerts still active at the end. */
  readonly activeAtEnd: readonly Alert[];
  /** Polls on which each node was not healthy. */
  readonly unhealthyPolls: Readonly<Record<string, number>>;
  readonly maxStoragePercent: Readonly<Record<string, number>>;
  readonly maxReplicaLag: number;
  readonly leaderlessPolls: number;
  readonly consumers: Readonly<Record<string, ConsumerExtremes>>;
  /** Stream messages at the first and the last poll. */
  readonly messages: { readonly first: number; readonly last: number };
}

export async function runMonitor(opts: MonitorOptions): Promise<MonitorSummary> {
  const th: MonitorThresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const tracker = new AlertTracker(th);
  const history: BacklogHistory = new Map();
  const started = Date.now();
  const unhealthyPolls: Record<string, number> = {};
  const maxStoragePercent: Record<string, number> = {};
  const consumers: Record<string, ConsumerExtremes> = {};
  let maxReplicaLag = 0;
  let leaderlessPolls = 0;
  let polls = 0;
  let firstMessages: number | undefined;
  let lastMessages = 0;
  let ended: MonitorSummary["ended"] = "duration";
  // A node that stops answering keeps the server name it had, so its alerts read "nats-2", not a URL.
  const names = new Map<string, string>();

  for (;;) {
    const answers = await Promise.all(
      opts.monitorUrls.map((u) => pollNode(u, Math.min(5000, opts.intervalMs))),
    );
    const polled = answers.map((p) => {
      if (p.reachable) names.set(p.url, p.name);
      return p.reachable ? p : { ...p, name: names.get(p.url) ?? p.url };
    });
    const sample = buildSample(polled, opts.stream, history, opts.consumers);
    polls++;
    for (const n of sample.nodes) {
      if (n.health !== "ok") unhealthyPolls[n.name] = (unhealthyPolls[n.name] ?? 0) + 1;
      maxStoragePercent[n.name] = Math.max(maxStoragePercent[n.name] ?? 0, n.storagePercent);
    }
    for (const r of sample.stream.replicas) maxReplicaLag = Math.max(maxReplicaLag, r.lag);
    if (sample.leaderlessStreams.length > 0) leaderlessPolls++;
    for (const c of sample.consumers) {
      const prev = consumers[c.name];
      consumers[c.name] = {
        maxPending: Math.max(prev?.maxPending ?? 0, c.numPending),
        maxAckPending: Math.max(prev?.maxAckPending ?? 0, c.numAckPending),
        maxTrendPerMin: Math.max(prev?.maxTrendPerMin ?? Number.NEGATIVE_INFINITY, c.trendPerMin),
      };
    }
    if (sample.stream.found) {
      firstMessages ??= sample.stream.messages;
      lastMessages = sample.stream.messages;
    }
    const { raised, resolved } = tracker.update(sample);
    for (const a of raised) opts.onAlert?.(a, "raised");
    for (const a of resolved) opts.onAlert?.(a, "resolved");
    opts.onSample?.(sample, tracker.activeAlerts());

    if (raised.length > 0 && opts.exitOnAlert) {
      ended = "alert";
      break;
    }
    // Polls stay on a fixed grid from the start, so a slow node does not stretch the interval.
    const next = started + polls * opts.intervalMs;
    if (next - started >= opts.durationMs) break;
    if (await interrupted(next - Date.now(), opts.signal)) {
      ended = "interrupted";
      break;
    }
  }
  return {
    ok: tracker.raised.length === 0,
    stream: opts.stream,
    startedAt: new Date(started).toISOString(),
    endedAt: new Date().toISOString(),
    polls,
    ended,
    alerts: tracker.raised,
    activeAtEnd: tracker.activeAlerts(),
    unhealthyPolls,
    maxStoragePercent,
    maxReplicaLag,
    leaderlessPolls,
    consumers,
    messages: { first: firstMessages ?? 0, last: lastMessages },
  };
}

/** Waits `ms`; true when the signal fired first. */
function interrupted(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(false);
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
