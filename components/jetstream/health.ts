/**
 * The JetStream health questions, answered once for the whole project: is a replica current, has
 * the stream a leader, is it where it should be. Commands, runbook steps, the monitor and the
 * checks ask here instead of reading `current`/`offline`/`lag` themselves, so a rule (or a
 * difference between server lines, kept in serverLines.ts) changes in one place.
 */

/** A follower as a stream leader reports it (`cluster.replicas[]` of stream info). */
export interface ReplicaReport {
  readonly name: string;
  readonly current: boolean;
  readonly offline?: boolean;
  /** Entries behind the leader; absent counts as none. */
  readonly lag?: number;
}

/**
 * The one definition of "replica current": online, flagged current by the leader, and at most
 * `maxLag` entries behind (default none: a replica with lag is catching up, whatever its flag).
 */
export function replicaCurrent(r: ReplicaReport, maxLag = 0): boolean {
  return r.current && r.offline !== true && (r.lag ?? 0) <= maxLag;
}

/** A meta-group peer is current when the meta leader flags it so and does not mark it offline. */
export function peerCurrent(r: { readonly current: boolean; readonly offline?: boolean }): boolean {
  return r.current && r.offline !== true;
}

/** How a replica reads in a status line: "n2 current", "n2 offline", "n2 lag 12", "n2 not current". */
export function describeReplica(r: ReplicaReport): string {
  if (r.offline === true) return `${r.name} offline`;
  if (replicaCurrent(r)) return `${r.name} current`;
  return (r.lag ?? 0) > 0 ? `${r.name} lag ${r.lag}` : `${r.name} not current`;
}

/** Every follower is current and there are exactly `replicas − 1` of them. */
export function allReplicasCurrent(followers: readonly ReplicaReport[], replicas: number): boolean {
  return followers.length === replicas - 1 && followers.every((r) => replicaCurrent(r));
}

/** How far a copy of a stream has come: a server's own `/jsz` view, or the leader's state. */
export interface CopyState {
  readonly messages: number;
  readonly lastSeq: number;
}

/**
 * The one definition of "copies agree": the same last sequence and message count. The leader's
 * `current` alone is not enough on 2.9.10: a SIGKILLed leader can come back without messages it
 * had acknowledged and still be called current with lag 0 (nats-server#2955, #4695).
 */
export function sameCopy(a: CopyState, b: CopyState): boolean {
  return a.lastSeq === b.lastSeq && a.messages === b.messages;
}

/** The copy with the highest last sequence (the first of equals); undefined for none. */
export function mostAdvanced<C extends CopyState>(copies: readonly C[]): C | undefined {
  return copies.reduce<C | undefined>(
    (a, c) => (a === undefined || c.lastSeq > a.lastSeq ? c : a),
    undefined,
  );
}

/** How copies read in a status line: "n1 120 msgs/seq 130, n2 …". */
export function describeCopies(copies: readonly (CopyState & { readonly server: string })[]): string {
  return copies.map((c) => `${c.server} ${c.messages} msgs/seq ${c.lastSeq}`).join(", ");
}

/**
 * The meta group of `nodes` servers has formed: its leader sees every other node as a current
 * peer (`/jsz` `meta_cluster.replicas`). `/healthz` alone can be ok on every node before that.
 */
export function metaGroupFormed(
  peers: readonly { readonly current: boolean; readonly offline?: boolean }[],
  nodes: number,
): boolean {
  return peers.length === nodes - 1 && peers.every(peerCurrent);
}
