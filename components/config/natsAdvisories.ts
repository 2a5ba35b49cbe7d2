/**
 * Known nats-server security advisories, as version ranges, so that `pulumi preview` refuses to
 * pin a release inside a known-vulnerable range (components/config/configRules.ts) and says where to move.
 *
 * Updating the table (docs/configuration.md, "Updating the table"): read the nats-server security
 * advisories (https://github.com/nats-io/nats-server/security/advisories and advisories.nats.io);
 * add one entry per advisory — `id` (the CVE, else the GHSA id), `aliases` (GHSA / NATS-YYYY-NN),
 * `published`, a one-line `impact`, every affected range as published (introduced ≤ v < fixed, one
 * range per line that got a fix, an open-ended range where a line got none); move
 * NEWEST_KNOWN_RELEASE when a release came out; set CHECKED to the day you looked; run
 * `npm run test:unit` (test/unit/natsAdvisories.test.ts holds each sample version's exact verdict).
 */
import { compareVersions, PINNED_NATS_VERSION, parseVersion } from "../jetstream/serverLines";

/** The day the table was last compared with the advisory lists. */
export const CHECKED = "2026-12-03";

/** Where the table comes from. */
export const ADVISORY_SOURCES = "nats-io/nats-server security advisories (GitHub) and advisories.nats.io";

/** The newest nats-server release this table knows (October 2026). */
export const NEWEST_KNOWN_RELEASE = "2.15.1";

/** Affected: `introduced` ≤ v < `fixed` (no `fixed`: every later release of the range is affected). */
export interface AffectedRange {
  readonly introduced: string;
  readonly fixed?: string;
}

export interface Advisory {
  /** The CVE id, or the GHSA / NATS advisory id where no CVE was published. */
  readonly id: string;
  readonly aliases: readonly string[];
  readonly published: string;
  /** One line: what an attacker gets. */
  readonly impact: string;
  readonly affected: readonly AffectedRange[];
}

// Advisories published together share their ranges (March and June 2026). Published as "< 2.11.15"
// (no lower bound) on the github.com/nats-io/nats-server/v2 module, whose first release is 2.0.0.
const FIXED_IN_2_11_15_AND_2_12_6: readonly AffectedRange[] = [
  { introduced: "2.0.0", fixed: "2.11.15" },
  { introduced: "2.12.0", fixed: "2.12.6" },
];
const FIXED_IN_2_11_16_2_12_7_AND_2_14_0: readonly AffectedRange[] = [
  { introduced: "2.0.0", fixed: "2.11.16" },
  { introduced: "2.12.0", fixed: "2.12.7" },
  { introduced: "2.13.0", fixed: "2.14.0" },
];

export const ADVISORIES: readonly Advisory[] = [
  {
    id: "CVE-2025-30215",
    aliases: [],
    published: "2025-04",
    impact: "JetStream management API authorization bypass",
    affected: [
      { introduced: "2.2.0", fixed: "2.10.27" },
      { introduced: "2.11.0", fixed: "2.11.1" },
    ],
  },
  {
    id: "CVE-2026-27889",
    aliases: [],
    published: "2026-03",
    impact: "a malformed WebSocket frame panics the server before authentication (denial of service)",
    affected: [
      { introduced: "2.2.0", fixed: "2.11.14" },
      { introduced: "2.12.0", fixed: "2.12.5" },
    ],
  },
  {
    id: "CVE-2026-33222",
    aliases: ["GHSA-9983-vrx2-fg9c"],
    published: "2026-03-24",
    impact: "a user allowed to restore one JetStream stream can restore into other stream names",
    affected: FIXED_IN_2_11_15_AND_2_12_6,
  },
  {
    id: "CVE-2026-33248",
    aliases: ["GHSA-3f24-pcvm-5jqc"],
    published: "2026-03-24",
    impact: "mTLS verify_and_map identities bypassable for some certificate DN patterns",
    affected: FIXED_IN_2_11_15_AND_2_12_6,
  },
  {
    id: "CVE-2026-33246",
    aliases: [],
    published: "2026-03",
    impact: "the Nats-Request-Info header can be spoofed through a leafnode connection",
    affected: FIXED_IN_2_11_15_AND_2_12_6,
  },
  {
    id: "GHSA-38x3-76xf-cq45",
    aliases: ["NATS-2026-16"],
    published: "2026-06-29",
    impact: "with no_auth_user set, an unauthenticated peer can bypass route or leafnode authentication",
    affected: FIXED_IN_2_11_16_2_12_7_AND_2_14_0,
  },
  {
    id: "GHSA-jx8g-9g95-6322",
    aliases: ["NATS-2026-18"],
    published: "2026-06-29",
    impact: "a queue subscription can bypass a plain subject deny permission",
    affected: FIXED_IN_2_11_16_2_12_7_AND_2_14_0,
  },
  {
    id: "GHSA-7qmq-8cc4-hxwg",
    aliases: ["NATS-2026-26"],
    published: "2026-06-29",
    impact: "MQTT retained and QoS 1+ replayed messages bypass subscribe deny rules",
    affected: [
      { introduced: "2.0.0", fixed: "2.12.12" },
      { introduced: "2.13.0", fixed: "2.14.3" },
    ],
  },
];

function inRange(version: string, range: AffectedRange): boolean {
  if (compareVersions(version, range.introduced) < 0) return false;
  return range.fixed === undefined || compareVersions(version, range.fixed) < 0;
}

/** The advisories whose affected ranges hold `version` (x.y.z). */
export function advisoriesAffecting(version: string): Advisory[] {
  return ADVISORIES.filter((a) => a.affected.some((r) => inRange(version, r)));
}

const minorOf = (v: string) => (parseVersion(v) ?? [0, 0, 0]).slice(0, 2).join(".");

/**
 * The release to move to from `version`: the lowest fixed release on the same minor line that no
 * advisory affects, else the pinned release (the line got no fix for everything, e.g. 2.10 for the
 * 2026 advisories).
 */
export function versionToMoveTo(version: string): string {
  return laterFixesOnLine(version).find((f) => advisoriesAffecting(f).length === 0) ?? PINNED_NATS_VERSION;
}

/** The fixed releases of every advisory on `version`'s minor line above it, lowest first. */
function laterFixesOnLine(version: string): string[] {
  const fixes = ADVISORIES.flatMap((a) => a.affected.map((r) => r.fixed)).filter(
    (f): f is string => f !== undefined && minorOf(f) === minorOf(version) && compareVersions(f, version) > 0,
  );
  return [...new Set(fixes)].sort(compareVersions);
}

/** The fixed releases an advisory names, for the message. */
function fixedIn(a: Advisory): string {
  const fixed = a.affected.map((r) => r.fixed).filter((f): f is string => f !== undefined);
  return fixed.length === 0 ? "no fixed release yet" : `fixed in ${fixed.join("/")}`;
}

/** The advisory's id with its aliases (`GHSA-38x3-76xf-cq45 / NATS-2026-16`): either finds it. */
export function advisoryName(a: Advisory): string {
  return [a.id, ...a.aliases].join(" / ");
}

/** Why `version` must not be pinned, or undefined when no known advisory affects it. */
export function vulnerablePinReason(version: string): string | undefined {
  const hits = advisoriesAffecting(version);
  if (hits.length === 0) return undefined;
  const listed = hits.map((a) => `${advisoryName(a)} (${a.impact}; ${fixedIn(a)})`).join(", ");
  const to = versionToMoveTo(version);
  let move = `move to ${to}`;
  if (minorOf(to) !== minorOf(version)) {
    // The line's own fixes (2.10.27 for CVE-2025-30215) fall inside later advisories' ranges.
    const fixes = laterFixesOnLine(version);
    const affectedFixes =
      fixes.length === 0
        ? ""
        : ` (${fixes.join(", ")} ${fixes.length === 1 ? "is itself" : "are themselves"} affected)`;
    move = `the ${minorOf(version)} line has no release fixing all of them${affectedFixes}: move to ${to}`;
  }
  return `is ${version}, inside the affected range of ${listed}: ${move} (advisories checked ${CHECKED})`;
}
