/**
 * What differs between nats-server lines, in one table keyed by version, and the release the
 * project pins. Everything that behaves differently per line (health texts, route counts, where a
 * build comes from) is answered here, so a new line is one new row, not a hunt through the code.
 *
 * Measured on Debian's builds of each line (bookworm 2.9.10, trixie 2.10.27, sid 2.15.1), December
 * 2026; `test/integration/serverLines.test.ts` checks every row against a real server of that line.
 */

/** The nats-server release the stacks, the docs, the rehearsal and the tests pin. */
export const PINNED_NATS_VERSION = "2.15.1";

/** The oldest line a pilot may still run (Debian bookworm's), tested beside the pinned one. */
export const OLDEST_PILOT_NATS_VERSION = "2.9.10";

/** A build of nats-server that `bin/setup` installs into `.nats/<version>/` for tests and rehearsals. */
export interface DebianBuild {
  /** The Debian suite whose archive carries it. */
  readonly suite: string;
  /** The Debian package version (`apt-get download nats-server=<this>`). */
  readonly packageVersion: string;
}

/** Server builds the project runs locally besides the system's (Debian's nats-server package). */
export const DEBIAN_BUILDS: Readonly<Record<string, DebianBuild>> = {
  "2.15.1": { suite: "sid", packageVersion: "2.15.1-1" },
  "2.10.27": { suite: "trixie", packageVersion: "2.10.27-1+b2" },
};

export interface ServerLine {
  /** `major.minor`. */
  readonly line: string;
  /**
   * `/healthz` error texts of a server whose cluster has no reachable meta leader (its peers are
   * down or not deployed yet). Such a node can never turn healthy alone.
   */
  readonly leaderlessHealthTexts: readonly string[];
  /**
   * Route connections to each peer. 2.9 has one; from 2.10 routes are pooled (`pool_size`, default
   * 3, as `/varz` `cluster.pool_size` says) plus one pinned to the system account.
   */
  routesPerPeer(poolSize: number | undefined): number;
  /**
   * A standalone server's stream info: 2.9 sends no `cluster` block, 2.10 and later one that holds
   * only the server as leader (no cluster name). `clusterOf` in jsApiRequest.ts reads both alike.
   */
  readonly standaloneStreamCluster: "absent" | "leader-only";
  /**
   * Whether a brand-new cluster elects its first meta leader only once every configured peer is
   * up. 2.9 and 2.10 elect with a majority (2 of 3); 2.15.1 waits for all three, so a node of a
   * half-deployed cluster is never fully healthy (the node script's gate allows for it).
   */
  readonly firstLeaderNeedsAllPeers: boolean;
  /**
   * Whether a snapshot taken under live traffic can hold messages beyond the state it reports
   * (backup.json): 2.9 and 2.10 record the state before they read the blocks; 2.15.1 never did in
   * 300 backups under 10k publishes a second. Restores accept such messages and report them.
   */
  readonly snapshotMayOutrunState: boolean;
  /**
   * The snapshot (tar) format a line writes; a server reads its own and older ones only. Measured:
   * 2.15.1's snapshots fail to restore on 2.10.27 and 2.9.10 ("archive/tar: invalid tar header",
   * 10062); 2.10 and 2.9 snapshots restore on every line. 2.11–2.14 are taken to write 2.15's.
   */
  readonly snapshotFormat: 1 | 2;
  /**
   * The ack floor a consumer created at a start sequence reports before its first delivery:
   * `before-start` (start − 1, 2.15.1) or `zero` (2.9.10 and 2.10.27). Either way it delivers from
   * the start sequence; carried consumer positions report what the server says.
   */
  readonly startSequenceAckFloor: "zero" | "before-start";
  /**
   * Consumer config fields the line accepts that 2.9 does not: `metadata` and `filter_subjects`
   * (2.10 and later; nats.js refuses them towards an older server). 2.15.1 also fills `metadata`
   * with its own `_nats.*` keys, which a consumer carried to an older server must leave behind.
   */
  readonly consumerMetadata: boolean;
  /**
   * Whether a SIGKILLed stream leader can come back with a copy that lacks messages it had
   * acknowledged while the leader calls it current (nats-server#2955, #4695): measured on 2.9.10
   * in most rehearsals, never on 2.15.1. The runbook rebuilds such a copy; the rebuild can also set
   * a durable consumer back or drop it (2 of 3 rehearsals on 2.9.10: 271 and 1,356 messages
   * delivered again), which the runbook cannot prevent, only report.
   */
  readonly killedReplicaMayDiverge: boolean;
}

const LINES: readonly ServerLine[] = [
  {
    line: "2.9",
    leaderlessHealthTexts: ["JetStream has not established contact with a meta leader"],
    routesPerPeer: () => 1,
    standaloneStreamCluster: "absent",
    firstLeaderNeedsAllPeers: false,
    snapshotMayOutrunState: true,
    snapshotFormat: 1,
    startSequenceAckFloor: "zero",
    consumerMetadata: false,
    killedReplicaMayDiverge: true,
  },
  {
    line: "2.10",
    leaderlessHealthTexts: ["JetStream has not established contact with a meta leader"],
    routesPerPeer: (poolSize) => (poolSize ?? 3) + 1,
    standaloneStreamCluster: "leader-only",
    firstLeaderNeedsAllPeers: false,
    snapshotMayOutrunState: true,
    snapshotFormat: 1,
    startSequenceAckFloor: "zero",
    consumerMetadata: true,
    // Not measured on 2.10: taken as 2.9 until a rehearsal shows otherwise.
    killedReplicaMayDiverge: true,
  },
  {
    // A restarted lone node of 2.11 and later reports that it is recovering the meta layer for as
    // long as no peer answers (seen for 30 s and more on 2.15.1), not the 2.9 text.
    line: "2.11+",
    leaderlessHealthTexts: [
      "JetStream is still recovering meta layer",
      "JetStream has not established contact with a meta leader",
    ],
    routesPerPeer: (poolSize) => (poolSize ?? 3) + 1,
    standaloneStreamCluster: "leader-only",
    firstLeaderNeedsAllPeers: true,
    snapshotMayOutrunState: false,
    snapshotFormat: 2,
    startSequenceAckFloor: "before-start",
    consumerMetadata: true,
    killedReplicaMayDiverge: false,
  },
];

/** `[major, minor, patch]` of `x.y.z` (a pre-release or build suffix is ignored), or undefined. */
export function parseVersion(version: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  if (m === null) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Negative when a < b, 0 when equal, positive when a > b (x.y.z only). */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (pa === undefined || pb === undefined) throw new Error(`not an x.y.z version: "${pa ? b : a}"`);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] as number) - (pb[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** The table row for a running server's version (`/varz` `version`). Unknown newer lines get the newest row. */
export function serverLine(version: string): ServerLine {
  const v = parseVersion(version);
  if (v === undefined) throw new Error(`not an x.y.z nats-server version: "${version}"`);
  const [major, minor] = v;
  if (major !== 2 || minor < 9) {
    throw new Error(`nats-server ${version} is older than any line this project supports (2.9 and later)`);
  }
  if (minor === 9) return LINES[0] as ServerLine;
  if (minor === 10) return LINES[1] as ServerLine;
  return LINES[2] as ServerLine;
}

/** Every leaderless `/healthz` text of every line: the node script cannot know the peer's line. */
export function allLeaderlessHealthTexts(): string[] {
  return [...new Set(LINES.flatMap((l) => l.leaderlessHealthTexts))];
}

/** True when a `/healthz` error says the server has no reachable meta leader, on its line. */
export function isLeaderlessHealth(version: string, healthText: string): boolean {
  return serverLine(version).leaderlessHealthTexts.some((t) => healthText.includes(t));
}

/** Route connections a node of a formed `nodes`-node cluster holds (`/routez` `num_routes`). */
export function expectedRouteCount(version: string, nodes: number, poolSize: number | undefined): number {
  return (nodes - 1) * serverLine(version).routesPerPeer(poolSize);
}

/** How a server moves from one release to another, as the upgrade document's support policy sees it. */
export type VersionChange =
  | { readonly kind: "same" }
  | { readonly kind: "upgrade"; readonly minorsAhead: number }
  /** Back to the previous patch of the same minor: what "one patch version prior" supports. */
  | { readonly kind: "supported-downgrade" }
  /** Anything further back: "may work, but is not recommended". */
  | { readonly kind: "unsupported-downgrade" };

/** The support policy of docs.nats.io "Upgrading a Cluster": the current release and one patch prior. */
export const SUPPORT_POLICY =
  "the support policy for the server is the current release as well as one patch version release prior; downgrades to earlier versions may work, but are not recommended (NATS, Upgrading a Cluster)";

export function versionChange(from: string, to: string): VersionChange {
  const a = parseVersion(from);
  const b = parseVersion(to);
  if (a === undefined || b === undefined) throw new Error(`not an x.y.z version: "${a ? to : from}"`);
  const cmp = compareVersions(from, to);
  if (cmp === 0) return { kind: "same" };
  if (cmp < 0)
    return { kind: "upgrade", minorsAhead: b[0] === a[0] ? b[1] - a[1] : Number.POSITIVE_INFINITY };
  const onePatchBack = a[0] === b[0] && a[1] === b[1] && a[2] - b[2] === 1;
  return { kind: onePatchBack ? "supported-downgrade" : "unsupported-downgrade" };
}

/**
 * Why moving a running server from `from` to `to` needs the operator's explicit consent, or
 * undefined when it is within the policy: a downgrade beyond one patch, or an upgrade that skips a
 * minor line (each minor may change the JetStream store; NATS upgrades go one line at a time).
 */
export function unsupportedVersionChange(from: string, to: string): string | undefined {
  const change = versionChange(from, to);
  if (change.kind === "unsupported-downgrade") {
    return `${from} → ${to} is a downgrade beyond one patch release: ${SUPPORT_POLICY}`;
  }
  if (change.kind === "upgrade" && change.minorsAhead > 1) {
    return `${from} → ${to} skips ${change.minorsAhead - 1} minor line(s): upgrade one minor line at a time, or back up the streams and restore them on the new line`;
  }
  return undefined;
}

/**
 * Why a snapshot written by `backupVersion` cannot be restored on `serverVersion`, or undefined
 * when it can (or either version is unknown).
 */
export function snapshotUnreadable(backupVersion: string | undefined, serverVersion: string | undefined) {
  if (backupVersion === undefined || serverVersion === undefined) return undefined;
  if (parseVersion(backupVersion) === undefined || parseVersion(serverVersion) === undefined)
    return undefined;
  if (serverLine(backupVersion).snapshotFormat <= serverLine(serverVersion).snapshotFormat) return undefined;
  return `the backup was taken on nats-server ${backupVersion}, whose snapshot format nats-server ${serverVersion} cannot read (it answers "invalid tar header")`;
}
