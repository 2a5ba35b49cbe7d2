/**
 * Before the failover test touches anything: the stream must be replicated and healthy, the node
 * to stop must hold one of its replicas, and `{host}` must be known when a command uses it.
 */
import type { NatsConnection } from "nats";
import { AkiraNatsError } from "../../components/jetstream/errors";
import { replicaCurrent } from "../../components/jetstream/health";
import { type StreamSnapshot, streamSnapshotInfo } from "../../components/jetstream/streams";
import { waitFor } from "../../components/jetstream/waitFor";
import { resolveHost } from "./failoverNode";
import type { FailoverTestOptions, NodeAction } from "./failoverTest";

export interface FailoverTarget {
  /** The stream as it was before the test. */
  readonly before: StreamSnapshot;
  /** The stream leader before the test. */
  readonly leader: string;
  /** The node the test stops. */
  readonly node: string;
  readonly host?: string;
}

/** The node actions with their defaults applied. */
export interface NodeActions {
  readonly stop: NodeAction;
  readonly start: NodeAction;
  readonly lameDuck: NodeAction;
}

export async function resolveTarget(
  nc: NatsConnection,
  sysNc: NatsConnection | undefined,
  opts: FailoverTestOptions,
  actions: NodeActions,
): Promise<FailoverTarget> {
  const stream = opts.stream;
  const before = await preflight(nc, stream);
  const leader = before.cluster?.leader as string;
  const members = [leader, ...(before.cluster?.replicas.map((r) => r.name) ?? [])];
  const node = opts.node ?? leader;
  if (!members.includes(node)) {
    throw new AkiraNatsError(
      "bad-node",
      `node ${node} holds no replica of ${stream} (its replicas are on ${members.join(", ")}): pass one of them with --node, or leave --node out to take the leader`,
    );
  }
  if (opts.graceful && sysNc === undefined) {
    throw new AkiraNatsError(
      "system-account",
      "--graceful steps the JetStream meta leader down, which needs the system account: pass --system-password (or NATS_SYSTEM_PASSWORD)",
    );
  }
  const needsHost = [actions.stop, actions.start, opts.graceful ? actions.lameDuck : ""].some(
    (a) => typeof a === "string" && a.includes("{host}"),
  );
  const host = opts.hosts?.[node] ?? (needsHost ? await resolveHost(sysNc, node) : undefined);
  return { before, leader, node, host };
}

/** The stream must exist, be replicated (R ≥ 3) and healthy before a node is taken away. */
async function preflight(nc: NatsConnection, stream: string): Promise<StreamSnapshot> {
  let last: StreamSnapshot | undefined;
  // Only an unhealthy stream is worth waiting for: an unreplicated one, or any error (a missing
  // stream), ends the wait at once. waitFor would try again after an error the condition throws,
  // so errors come back as values.
  const healthy = async (): Promise<{ snap: StreamSnapshot } | { refused: unknown } | undefined> => {
    try {
      last = refuseUnreplicated(stream, await streamSnapshotInfo(nc, stream));
      return isHealthy(last) ? { snap: last } : undefined;
    } catch (err) {
      return { refused: err };
    }
  };
  const outcome = await waitFor(healthy, {
    timeoutMs: 30_000,
    intervalMs: 250,
    what: `${stream} to be healthy`,
  }).catch(() => {
    const c = last?.cluster;
    throw new AkiraNatsError(
      "not-healthy",
      `${stream} is not healthy before the test (leader ${c?.leader ?? "none"}, not current: ${notCurrent(last).join(", ") || "none"}): fix it first (akira-nats server check stream --stream ${stream})`,
    );
  });
  if ("refused" in outcome) throw outcome.refused;
  return outcome.snap;
}

function refuseUnreplicated(stream: string, snap: StreamSnapshot): StreamSnapshot {
  const r = snap.config.num_replicas;
  if (snap.cluster === undefined || r < 3) {
    throw new AkiraNatsError(
      "not-replicated",
      `${stream} has ${r} replica(s)${snap.cluster === undefined ? " on a standalone server" : ""}: stopping a node would stop the stream; run the failover test once it has 3 replicas`,
    );
  }
  return snap;
}

function isHealthy(snap: StreamSnapshot): boolean {
  const c = snap.cluster;
  return (
    c?.leader !== undefined &&
    notCurrent(snap).length === 0 &&
    c.replicas.length === snap.config.num_replicas - 1
  );
}

/**
 * Lag is not held against a follower here: under traffic that is already running (the
 * rehearsal's) a current follower is often a few entries behind, and that is no reason to refuse.
 */
function notCurrent(snap: StreamSnapshot | undefined): string[] {
  return (snap?.cluster?.replicas ?? [])
    .filter((x) => !replicaCurrent(x, Number.POSITIVE_INFINITY))
    .map((x) => x.name);
}
