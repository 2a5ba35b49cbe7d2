/**
 * The cluster's shape: the stack keys whose change on a live cluster would replace, move or stop
 * servers all at once, and the rules that let a change of them through or refuse it before
 * anything is touched. The rules compare the shape the last `pulumi up` applied with the one now
 * declared; `ClusterShapeGuard` (shapeGuard.ts) runs them in its `check()`, which the
 * engine calls before any resource that depends on the guard is touched, at preview and at up.
 *
 * Why each key is guarded (the safe procedures are in docs/stacks.md, "Changing a live cluster"):
 * - `clusterName`: part of every route, every Hetzner name and the NATS cluster name; nodes with
 *   different cluster names refuse each other's routes, so no roll can rename a live cluster.
 * - `location`, `privateNetworkCidr`: a server cannot move between locations, and a new range
 *   replaces the network every route runs over and every node's fixed address.
 * - `nodeCount` down: the removed servers hold stream replicas and meta-group peers.
 * - `serverType`: the Hetzner provider changes a type by a hard power-off, and the engine would do
 *   every server at once (quorum lost). The program never changes a running server's type
 *   (`ignoreChanges`); a resize is done node by node by hand, then accepted here.
 * - `image`: a new image means a rebuilt server (disk wiped); the program never rebuilds a running
 *   node (`ignoreChanges`), so the new image is for servers created later, once accepted here.
 * - `sshPublicKey`: the config commands log in with the matching private key; a key the nodes do not
 *   accept yet would lock every command out. It is first authorized next to the current one
 *   (`sshNextPublicKey`), then switched.
 */

/** The guarded keys as the guard records them. */
export interface ClusterShape {
  readonly clusterName: string;
  readonly nodeCount: number;
  readonly serverType: string;
  readonly location: string;
  readonly image: string;
  readonly privateNetworkCidr: string;
  /** The key the config commands log in with (`type base64`, comment dropped). */
  readonly sshPublicKey: string;
  /** Every key the nodes accept after this `up` (`sshPublicKey` and `sshNextPublicKey`). */
  readonly authorizedKeys: readonly string[];
  /** `acceptLiveChange` entries (`serverType=cx33`): changes done by hand, node by node. */
  readonly acceptedChanges: readonly string[];
}

export interface ShapeFailure {
  readonly property: keyof ClusterShape;
  readonly reason: string;
}

/** Keys a hand-made, node-by-node change may be accepted for. */
export const ACCEPTABLE_KEYS = ["serverType", "image"] as const;

/** An OpenSSH public key line without its comment: what identifies the key. */
export function publicKeyIdentity(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(" ");
}

/** Every refused change from `olds` (the last applied shape) to `news`; none on a first `up`. */
export function shapeChangeFailures(olds: Partial<ClusterShape>, news: ClusterShape): ShapeFailure[] {
  if (olds.clusterName === undefined) return [];
  const failures: ShapeFailure[] = [];
  const refuse = (property: keyof ClusterShape, reason: string) => failures.push({ property, reason });
  const changed = <K extends keyof ClusterShape>(k: K) =>
    olds[k] !== undefined && JSON.stringify(olds[k]) !== JSON.stringify(news[k]);
  const revert = (k: keyof ClusterShape) => `pulumi config set akira-nats:${k} ${String(olds[k])}`;

  if (changed("clusterName")) {
    refuse(
      "clusterName",
      `${olds.clusterName} → ${news.clusterName} would rename a live cluster: the name is in every route and every Hetzner resource name, and nodes with different cluster names refuse each other's routes. Revert it (${revert("clusterName")}); a cluster under a new name is a new stack, filled the way the cutover fills GA`,
    );
  }
  if (changed("location")) {
    refuse(
      "location",
      `${olds.location} → ${news.location}: a server cannot move to another location, and the private network's zone follows it. Revert it (${revert("location")}); a cluster elsewhere is a new stack, filled the way the cutover fills GA`,
    );
  }
  if (changed("privateNetworkCidr")) {
    refuse(
      "privateNetworkCidr",
      `${olds.privateNetworkCidr} → ${news.privateNetworkCidr} would replace the private network every route runs over and every node's fixed address at once. Revert it (${revert("privateNetworkCidr")})`,
    );
  }
  if (olds.nodeCount !== undefined && news.nodeCount < olds.nodeCount) {
    refuse(
      "nodeCount",
      `${olds.nodeCount} → ${news.nodeCount} would delete servers that hold stream replicas and JetStream meta-group peers. Revert it (${revert("nodeCount")}); to shrink, first lower streamReplicas to at most ${news.nodeCount} and remove each leaving node's peer (nats server raft peer-remove), as docs/stacks.md describes`,
    );
  }
  for (const k of ACCEPTABLE_KEYS) {
    if (!changed(k) || news.acceptedChanges.includes(`${k}=${news[k]}`)) continue;
    const how =
      k === "serverType"
        ? 'the Hetzner provider changes a server\'s type by powering it off, and would do every node at once. Resize one node at a time instead (docs/stacks.md, "Resizing the nodes")'
        : 'a new image means rebuilding a server (its disk and JetStream replica wiped), which the program never does to a running node. Rebuild one node at a time (docs/stacks.md, "A new image"), or let only servers created from now on use it';
    refuse(
      k,
      `${olds[k]} → ${news[k]}: ${how}; then record it with pulumi config set --path 'akira-nats:acceptLiveChange[0]' ${k}=${news[k]}, or revert it (${revert(k)})`,
    );
  }
  if (
    olds.sshPublicKey !== undefined &&
    olds.sshPublicKey !== news.sshPublicKey &&
    !(olds.authorizedKeys ?? []).includes(news.sshPublicKey)
  ) {
    refuse(
      "sshPublicKey",
      "the nodes do not accept the new key yet, so every config command would be locked out. Rotate in two runs: first authorize it next to the current one (pulumi config set akira-nats:sshNextPublicKey '<new public key>'; pulumi up), then switch sshPrivateKey and sshPublicKey to the new pair and clear sshNextPublicKey",
    );
  }
  return failures;
}
