/**
 * Thresholds and the alerts they raise. A condition alerts once when it has held on `confirmPolls`
 * consecutive polls (one slow answer is not an incident) and is reported resolved when it clears.
 */

import { replicaCurrent } from "../../components/jetstream/health";
import { formatBytes, formatCount } from "../cli/output";
import type { MonitorSample } from "./monitorSample";

export interface MonitorThresholds {
  /** Consumer `num_pending` above this alerts (`backlog`). Default 10 000. */
  readonly maxPending: number;
  /** Consumer `num_ack_pending` above this alerts (`ack-pending`). Default 1 000. */
  readonly maxAckPending: number;
  /** A consumer backlog that grew on this many polls in a row alerts (`backlog-growth`). Default 10. */
  readonly growthPolls: number;
  /** JetStream storage used above this share of max storage alerts (`storage`). Default 80 %. */
  readonly storagePercent: number;
  /** A replica further behind than this many operations alerts (`replica`). Default 10 000. */
  readonly maxReplicaLag: number;
  /** Polls a condition must hold before it alerts. Default 2. */
  readonly confirmPolls: number;
}

export const DEFAULT_THRESHOLDS: MonitorThresholds = {
  maxPending: 10_000,
  maxAckPending: 1_000,
  growthPolls: 10,
  storagePercent: 80,
  maxReplicaLag: 10_000,
  confirmPolls: 2,
};

export type AlertKind =
  | "unhealthy"
  | "storage"
  | "missing"
  | "leaderless"
  | "replica"
  | "backlog"
  | "ack-pending"
  | "backlog-growth";

export interface Alert {
  readonly kind: AlertKind;
  /** What it is about: a node, `STREAM`, `STREAM@replica`, `STREAM/consumer`. */
  readonly subject: string;
  readonly detail: string;
  /** `ALERT <kind> <subject>: <detail>`, the line printed. */
  readonly line: string;
  /** ISO time it was raised. */
  readonly t: string;
}

interface Condition {
  readonly kind: AlertKind;
  readonly subject: string;
  readonly detail: string;
}

/** The conditions that hold in one sample, before confirmation. */
export function conditions(
  s: MonitorSample,
  th: MonitorThresholds,
  growth: ReadonlyMap<string, number>,
): Condition[] {
  const out: Condition[] = [];
  for (const n of s.nodes) {
    if (n.health !== "ok") out.push({ kind: "unhealthy", subject: n.name, detail: `/healthz: ${n.health}` });
    if (n.storageMax > 0 && n.storagePercent > th.storagePercent) {
      out.push({
        kind: "storage",
        subject: n.name,
        detail: `JetStream storage ${n.storagePercent}% used (${formatBytes(n.storageUsed)} of ${formatBytes(n.storageMax)}, ${formatBytes(n.storageReserved)} reserved; limit ${th.storagePercent}%)`,
      });
    }
  }
  const reachable = s.nodes.some((n) => !n.health.startsWith("unreachable"));
  if (!s.stream.found && reachable) {
    out.push({ kind: "missing", subject: s.stream.name, detail: "no node reports this stream" });
  }
  for (const key of s.leaderlessStreams) {
    out.push({
      kind: "leaderless",
      subject: key,
      detail: "no node leads this stream: it takes no publishes",
    });
  }
  for (const r of s.stream.replicas) {
    if (!replicaCurrent(r, th.maxReplicaLag)) {
      out.push({
        kind: "replica",
        subject: `${s.stream.name}@${r.name}`,
        detail: `${r.offline ? "offline" : r.current ? "current" : "not current"}, lag ${formatCount(r.lag)} (limit ${formatCount(th.maxReplicaLag)}), last seen ${r.activeMs} ms ago`,
      });
    }
  }
  for (const c of s.consumers) {
    const subject = `${s.stream.name}/${c.name}`;
    if (c.numPending > th.maxPending) {
      out.push({
        kind: "backlog",
        subject,
        detail: `${formatCount(c.numPending)} messages pending (limit ${formatCount(th.maxPending)})`,
      });
    }
    if (c.numAckPending > th.maxAckPending) {
      out.push({
        kind: "ack-pending",
        subject,
        detail: `${formatCount(c.numAckPending)} messages delivered but not acknowledged (limit ${formatCount(th.maxAckPending)})`,
      });
    }
    const grew = growth.get(c.name) ?? 0;
    if (grew >= th.growthPolls) {
      out.push({
        kind: "backlog-growth",
        subject,
        detail: `backlog grew on ${grew} polls in a row, now ${formatCount(c.backlog)} (${c.trendPerMin >= 0 ? "+" : ""}${formatCount(c.trendPerMin)}/min)`,
      });
    }
  }
  return out;
}

/** Tracks confirmations and active alerts across polls. */
export class AlertTracker {
  private readonly streak = new Map<string, number>();
  private readonly active = new Map<string, Alert>();
  private readonly growth = new Map<string, number>();
  private readonly lastBacklog = new Map<string, number>();
  readonly raised: Alert[] = [];

  constructor(private readonly th: MonitorThresholds) {}

  /** Feeds one sample; returns the alerts raised and resolved by it. */
  update(s: MonitorSample): { raised: Alert[]; resolved: Alert[] } {
    for (const c of s.consumers) {
      const before = this.lastBacklog.get(c.name);
      this.growth.set(
        c.name,
        before !== undefined && c.backlog > before ? (this.growth.get(c.name) ?? 0) + 1 : 0,
      );
      this.lastBacklog.set(c.name, c.backlog);
    }
    const now = conditions(s, this.th, this.growth);
    const seen = new Set<string>();
    const raised: Alert[] = [];
    for (const c of now) {
      const key = `${c.kind} ${c.subject}`;
      seen.add(key);
      const streak = (this.streak.get(key) ?? 0) + 1;
      this.streak.set(key, streak);
      if (streak >= this.th.confirmPolls && !this.active.has(key)) {
        const alert: Alert = { ...c, line: `ALERT ${key}: ${c.detail}`, t: s.t };
        this.active.set(key, alert);
        this.raised.push(alert);
        raised.push(alert);
      }
    }
    const resolved: Alert[] = [];
    for (const key of [...this.streak.keys()]) {
      if (seen.has(key)) continue;
      this.streak.delete(key);
      const a = this.active.get(key);
      if (a !== undefined) {
        this.active.delete(key);
        resolved.push(a);
      }
    }
    return { raised, resolved };
  }

  activeAlerts(): Alert[] {
    return [...this.active.values()];
  }
}
