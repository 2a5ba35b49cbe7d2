/** The rehearsal's report: `report.json` (a stable set of keys) and its readable rendering. */
import { join } from "node:path";

export const REPORT_FILE = "report.json";
export const TIMELINE_FILE = "timeline.svg";

/** A durable's ack floor before a move, and the same message's sequence on the other side. */
export interface CarriedFloor {
  readonly before: number;
  readonly after: number;
  /** The first message it had not acknowledged, where it resumes ("" when it had them all). */
  readonly nextMessage: string;
}

/** The traffic's durable consumer through the cutover and the rollback. */
export interface ConsumerAckFloors {
  readonly durable: string;
  /** Pilot → GA (null when the cutover did not get that far). */
  readonly cutover: CarriedFloor | null;
  /** GA → pilot. */
  readonly rollback: CarriedFloor | null;
  /** Its ack floor where the applications read at the end, as the server reports it. */
  readonly atEnd: number | null;
  /** Messages it received more than once over the whole run (in flight at a move: at least once). */
  readonly redelivered: number;
}

export interface RehearsalReport {
  /** Nothing lost, nothing duplicated, every step ok. */
  readonly ok: boolean;
  readonly stream: string;
  /** The pilot's nats-server, from its /varz (null when it never answered). */
  readonly pilotVersion: string | null;
  /** The GA nodes' nats-server, from their /varz after the cutover (null when none answered). */
  readonly gaVersion: string | null;
  /** The GA nodes' client URLs, as applications were pointed at them: `tls://`, as on Hetzner. */
  readonly gaClientUrls: readonly string[];
  /** The pilot's client URLs (plain, as the pilot runs). */
  readonly pilotClientUrls: readonly string[];
  /** Durable consumers the cutover carried to GA with their positions (backup with consumers). */
  readonly consumersCarried: number | null;
  /** The traffic durable's ack floor before and after each move, and its redeliveries. */
  readonly consumerAckFloors: ConsumerAckFloors;
  /** CDRs sent (first attempts). */
  readonly published: number;
  /** CDRs the stream acknowledged. */
  readonly acked: number;
  /** CDRs never acknowledged after every retry (the publisher knows; not a loss). */
  readonly failed: number;
  /** Messages in the final stream. */
  readonly stored: number;
  /** Acknowledged CDRs missing (on GA after the cutover, or in the final stream). Must be 0. */
  readonly lost: number;
  /** CDRs stored more than once in the final stream. */
  readonly duplicates: number;
  /** Publisher pause at the cutover (pause hook to resume hook). */
  readonly publisherPauseMs: number | null;
  /** Publisher pause at the rollback. */
  readonly rollbackPauseMs: number | null;
  /** Longest time without an ack while publishing (pauses excluded). */
  readonly maxPublishGapMs: number;
  /** Longest time without an ack while the stream leader was down (SIGKILL). */
  readonly failoverUnavailableMs: number | null;
  /** From the killed node's restart to its replica being current. */
  readonly catchUpMs: number | null;
  /** The whole rehearsal, end to end. */
  readonly durationMs: number;
  readonly ratePerSec: number;
  readonly ports: "vm" | "random";
  /** One line per failure; empty when ok. */
  readonly failures: readonly string[];
  readonly steps: readonly { readonly name: string; readonly durationMs: number; readonly ok: boolean }[];
  /** With --keep-running: the pilot still running (URLs, the throwaway client user, pids). */
  readonly servers?: string;
  readonly user?: string;
  readonly password?: string;
  readonly pids?: readonly number[];
}

const ms = (v: number | null) => (v === null ? "-" : `${v} ms`);

const floor = (f: CarriedFloor | null) => (f === null ? "-" : `${f.before} → ${f.after}`);

function consumerLine(c: ConsumerAckFloors): string {
  return `${c.durable} ack floor: cutover ${floor(c.cutover)}, rollback ${floor(c.rollback)}, at end ${c.atEnd ?? "-"}; ${c.redelivered} redelivered`;
}

export function formatReport(r: RehearsalReport, dir: string): string {
  const lines = [
    "",
    `rehearsal ${r.ok ? "OK" : "FAILED"}: stream ${r.stream}, ${(r.durationMs / 1000).toFixed(1)} s end to end`,
    `  servers    pilot nats-server ${r.pilotVersion ?? "-"}, GA nats-server ${r.gaVersion ?? "-"}`,
    `  clients    GA ${r.gaClientUrls.join(",")}, pilot ${r.pilotClientUrls.join(",")}`,
    `  CDRs       published ${r.published}, acked ${r.acked}, failed ${r.failed}, stored ${r.stored}`,
    `  loss       lost ${r.lost}, duplicates ${r.duplicates}`,
    `  pauses     cutover ${ms(r.publisherPauseMs)}, rollback ${ms(r.rollbackPauseMs)}, longest publish gap ${ms(r.maxPublishGapMs)}`,
    `  consumer   ${consumerLine(r.consumerAckFloors)}`,
    `  failover   unavailable ${ms(r.failoverUnavailableMs)}, catch-up ${ms(r.catchUpMs)}`,
    "  steps",
    ...r.steps.map(
      (s) =>
        `    ${s.ok ? "ok  " : "FAIL"} ${s.name.padEnd(36)} ${(s.durationMs / 1000).toFixed(1).padStart(6)} s`,
    ),
    ...(r.failures.length > 0 ? ["  failures", ...r.failures.map((f) => `    ${f}`)] : []),
    `  report     ${join(dir, REPORT_FILE)}`,
    `  timeline   ${join(dir, TIMELINE_FILE)}`,
  ];
  if (r.servers !== undefined) {
    lines.push(
      `  running    ${r.servers} (user ${r.user}, password in report.json; a throwaway local one), pids ${r.pids?.join(" ")}`,
      `             stop with: kill ${r.pids?.join(" ")}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
