/** The rolling-upgrade rehearsal's report: `rolling-upgrade-report.json` and its readable lines. */
import type { RollProgress } from "../local/scriptedNodes";

/** Written into the rehearsal's directory at the end of a run. */
export const REPORT_FILE = "rolling-upgrade-report.json";

export type RollingUpgradeProgress =
  | { readonly phase: "cluster-up"; readonly nodes: readonly string[]; readonly version: string }
  | { readonly phase: "traffic-started"; readonly ratePerSec: number }
  | { readonly phase: "roll"; readonly from: string; readonly to: string }
  | { readonly phase: "roll-skipped"; readonly reason: string }
  | (RollProgress & { readonly streamLeader?: string; readonly version?: string })
  | { readonly phase: "verified"; readonly stored: number; readonly lost: number };

export interface NodeRollReport {
  readonly name: string;
  readonly ok: boolean;
  /** The node's nats-server before and after its roll, from its /varz (not from a flag). */
  readonly versionBefore: string;
  readonly versionAfter: string;
  /** Wall time of this node's script: lame duck, swap, start, health gate. */
  readonly ms: number;
  /** The stream's leader just before and just after this node rolled. */
  readonly streamLeaderBefore: string;
  readonly streamLeaderAfter: string;
  /** The script's error output when it failed. */
  readonly error?: string;
}

/** One pass over every node, from one release to another. */
export interface RollPhaseReport {
  readonly fromVersion: string;
  readonly toVersion: string;
  /** In roll order. */
  readonly nodes: readonly NodeRollReport[];
  /** Publishes never acknowledged during this pass. */
  readonly failedPublishes: number;
  /** Longest time without any ack during this pass. */
  readonly maxPublishGapMs: number;
  readonly ms: number;
}

export interface RollingUpgradeReport {
  readonly ok: boolean;
  readonly fromVersion: string;
  readonly toVersion: string;
  readonly stream: string;
  readonly ratePerSec: number;
  /** The upgrade, in roll order. */
  readonly nodes: readonly NodeRollReport[];
  /**
   * The way back down, when the support policy allows it (one patch back) or it was forced; else
   * why it was skipped.
   */
  readonly rollback: RollPhaseReport | { readonly skipped: string };
  readonly totalMs: number;
  readonly published: number;
  readonly acked: number;
  /** Messages never acknowledged despite retries, over the whole run. Target 0. */
  readonly failedPublishes: number;
  /** Single attempts that timed out or errored and were retried. */
  readonly failedAttempts: number;
  /** Longest time without any ack while publishing. */
  readonly maxPublishGapMs: number;
  /** The following three are null when the stream could not be read back ({@link readError}). */
  readonly stored: number | null;
  /** Acknowledged CDRs missing from the stream at the end. Target 0. */
  readonly lost: number | null;
  readonly duplicates: number | null;
  /** Why the stream could not be read back at the end (e.g. after a forced downgrade). */
  readonly readError?: string;
}

function nodeLines(nodes: readonly NodeRollReport[]): string[] {
  return nodes.map(
    (n, i) =>
      `  ${i + 1}. ${n.name}: ${n.ok ? "rolled" : "FAILED"} ${n.versionBefore || "-"} -> ${n.versionAfter || "-"} in ${(n.ms / 1000).toFixed(1)} s (stream leader ${n.streamLeaderBefore || "-"} -> ${n.streamLeaderAfter || "-"})${n.error === undefined ? "" : `\n     ${n.error.split("\n").at(-1)}`}`,
  );
}

/** One line per node of each pass, then the totals, for the terminal. */
export function formatRollingUpgradeReport(r: RollingUpgradeReport): string {
  const back = r.rollback;
  const lines = [
    `rolling upgrade ${r.fromVersion} -> ${r.toVersion} of ${r.nodes.length} node(s) under ${r.ratePerSec} CDR/s: ${r.ok ? "ok" : "FAILED"}`,
    ...nodeLines(r.nodes),
    "skipped" in back
      ? `rolling back down: skipped: ${back.skipped}`
      : `rolling back down ${back.fromVersion} -> ${back.toVersion}: ${back.failedPublishes} failed publishes, longest gap ${back.maxPublishGapMs} ms`,
    ...("skipped" in back ? [] : nodeLines(back.nodes)),
    `  publishes: ${r.published} sent, ${r.acked} acked, ${r.failedPublishes} failed (${r.failedAttempts} attempts retried), longest gap ${r.maxPublishGapMs} ms`,
    r.readError === undefined
      ? `  stream ${r.stream}: ${r.stored} stored, ${r.lost} lost, ${r.duplicates} duplicates`
      : `  stream ${r.stream}: could not be read back: ${r.readError}`,
  ];
  return `${lines.join("\n")}\n`;
}
