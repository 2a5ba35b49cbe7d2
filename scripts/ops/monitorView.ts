/** What `akira-nats monitor` shows: the live screen on a TTY, one status line per poll elsewhere, the summary. */

import { replicaCurrent } from "../../components/jetstream/health";
import { formatBytes, formatCount, formatDuration, renderTable } from "../cli/output";
import type { MonitorSummary } from "./monitor";
import type { Alert } from "./monitorAlerts";
import type { MonitorSample } from "./monitorSample";

const signed = (n: number) => `${n > 0 ? "+" : ""}${formatCount(n)}`;

/** The full screen, redrawn on every poll. */
export function renderLiveView(s: MonitorSample, active: readonly Alert[], header: string): string {
  const nodes = renderTable(
    ["Node", "Health", "JS", "Storage", "Of max", "Reserved", "Conns", "Meta leader"],
    s.nodes.map((n) => [
      n.name,
      n.health,
      n.jetstream,
      formatBytes(n.storageUsed),
      `${n.storagePercent}%`,
      formatBytes(n.storageReserved),
      n.connections,
      n.metaLeader ?? "-",
    ]),
  );
  const st = s.stream;
  const streamLine = st.found
    ? `Stream ${st.name}: leader ${st.leader ?? "NONE"}, ${formatCount(st.messages)} messages, ${formatBytes(st.bytes)}, last seq ${formatCount(st.lastSeq)}`
    : `Stream ${st.name}: not found on any node`;
  const replicas =
    st.replicas.length === 0
      ? ""
      : renderTable(
          ["Replica", "Current", "Lag", "Seen ms ago"],
          st.replicas.map((r) => [r.name, r.offline ? "offline" : r.current, r.lag, r.activeMs]),
        );
  const consumers =
    s.consumers.length === 0
      ? "No consumers.\n"
      : renderTable(
          ["Consumer", "Leader", "Pending", "Ack pending", "Redelivered", "Trend/min"],
          s.consumers.map((c) => [
            c.name,
            c.leaderless ? "NONE" : (c.leader ?? "-"),
            c.numPending,
            c.numAckPending,
            c.numRedelivered,
            signed(c.trendPerMin),
          ]),
        );
  const leaderless =
    s.leaderlessStreams.length === 0 ? "" : `Leaderless streams: ${s.leaderlessStreams.join(", ")}\n`;
  const alerts = active.length === 0 ? "No active alerts.\n" : `${active.map((a) => a.line).join("\n")}\n`;
  return [header, "", nodes, streamLine, "", replicas, consumers, leaderless, alerts].join("\n");
}

/** One line per poll for logs and pipes. */
export function renderStatusLine(s: MonitorSample, active: readonly Alert[]): string {
  const healthy = s.nodes.filter((n) => n.health === "ok").length;
  const st = s.stream;
  const current = st.replicas.filter((r) => replicaCurrent(r, Number.POSITIVE_INFINITY)).length;
  const lag = Math.max(0, ...st.replicas.map((r) => r.lag));
  const parts = [
    s.t.slice(11, 19),
    `nodes ${healthy}/${s.nodes.length} healthy`,
    st.found
      ? `${st.name} leader ${st.leader ?? "NONE"} msgs ${formatCount(st.messages)}`
      : `${st.name} not found`,
    `replicas current ${current}/${st.replicas.length} max lag ${formatCount(lag)}`,
    ...s.consumers.map(
      (c) =>
        `${c.name} pending ${formatCount(c.numPending)} ack ${formatCount(c.numAckPending)} (${signed(c.trendPerMin)}/min)`,
    ),
    `alerts ${active.length}`,
  ];
  return `${parts.join(" | ")}\n`;
}

export function renderSummary(m: MonitorSummary): string {
  const took = Date.parse(m.endedAt) - Date.parse(m.startedAt);
  const lines = [
    `Monitor summary for ${m.stream}: ${m.ok ? "no alerts" : `${m.alerts.length} alert(s)`} in ${m.polls} polls over ${formatDuration(took)} (ended: ${m.ended})`,
    `  messages: ${formatCount(m.messages.first)} -> ${formatCount(m.messages.last)}`,
    `  max storage used: ${
      Object.entries(m.maxStoragePercent)
        .map(([n, p]) => `${n} ${p}%`)
        .join(", ") || "-"
    }`,
    `  unhealthy polls: ${
      Object.entries(m.unhealthyPolls)
        .map(([n, c]) => `${n} ${c}`)
        .join(", ") || "none"
    }`,
    `  max replica lag: ${formatCount(m.maxReplicaLag)}; polls with a leaderless stream: ${m.leaderlessPolls}`,
    ...Object.entries(m.consumers).map(
      ([n, c]) =>
        `  consumer ${n}: max pending ${formatCount(c.maxPending)}, max ack pending ${formatCount(c.maxAckPending)}, max trend ${signed(c.maxTrendPerMin)}/min`,
    ),
    ...m.alerts.map((a) => `  ${a.t} ${a.line}`),
  ];
  return `${lines.join("\n")}\n`;
}
