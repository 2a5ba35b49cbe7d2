/**
 * "Every replica is current" as the leader reports it is not enough: after a SIGKILL of the stream
 * leader, nats-server 2.9.10 can bring the killed node back with a copy that lacks the last
 * messages it had acknowledged, and still call it current with lag 0 (the divergence this check
 * found in the rehearsal; see nats-server#2955, #4695 for the same family). This compares every
 * server's own copy (`/jsz` over the system account) with the leader's, and repairs a copy that
 * stays behind by removing that peer from the stream (peer-remove, then R−1 and back to R when
 * there is no spare server): the replica is placed again and rebuilt from the leader, from scratch.
 *
 * Under live traffic the copies are never read at the same instant, so a copy counts as agreeing
 * once it has been seen equal to the most advanced copy of the same sample at least once.
 */

import type { NatsConnection } from "nats";
import { CLIENT_ACCOUNT } from "../../components/jetstream/accounts";
import { AkiraNatsError } from "../../components/jetstream/errors";
import { describeCopies, mostAdvanced, sameCopy } from "../../components/jetstream/health";
import { jsApiRequest } from "../../components/jetstream/jsApiRequest";
import { type StreamCopy, streamCopies } from "../../components/jetstream/peers";
import { changeReplicas, stepLeaderTo } from "../../components/jetstream/replicas";
import { streamSnapshotInfo } from "../../components/jetstream/streams";
import { waitFor } from "../../components/jetstream/waitFor";
import { rememberDurables, restoreDurables } from "./consumerPositions";

export interface CopiesOptions {
  /** How long a copy may take to be seen equal to the most advanced one. Default 10000 ms. */
  readonly timeoutMs?: number;
  /** The stream's account. Default `AKIRA`. */
  readonly account?: string;
  readonly pollMs?: number;
}

/** Resolves with the servers whose copy was never seen equal to the most advanced one (empty: all agree). */
export async function divergentCopies(
  sysNc: NatsConnection,
  stream: string,
  replicas: number,
  opts: CopiesOptions = {},
): Promise<{ divergent: string[]; last: StreamCopy[] }> {
  const agreed = new Set<string>();
  let last: StreamCopy[] = [];
  const allAgreed = async () => {
    last = await streamCopies(sysNc, opts.account ?? CLIENT_ACCOUNT, stream, {
      expectServers: replicas,
    }).catch(() => last);
    const top = mostAdvanced(last);
    for (const c of last) if (top !== undefined && sameCopy(c, top)) agreed.add(c.server);
    return last.length === replicas && last.every((c) => agreed.has(c.server)) ? true : undefined;
  };
  // Not agreeing in time is an answer (which copies never caught up), not a failure.
  const agree = await waitFor(allAgreed, {
    timeoutMs: opts.timeoutMs ?? 10_000,
    intervalMs: opts.pollMs ?? 200,
    what: `every copy of ${stream} equal to the most advanced`,
  }).catch(() => false);
  if (agree) return { divergent: [], last };
  return { divergent: last.map((c) => c.server).filter((n) => !agreed.has(n)), last };
}

export interface RepairResult {
  /** Servers whose copy diverged and was rebuilt. */
  readonly repaired: string[];
}

/**
 * Checks the copies and rebuilds the divergent ones (leadership moved off first). Throws when a
 * copy still diverges after its rebuild, or when every copy diverges (no good copy to rebuild from).
 */
export async function checkAndRepairCopies(
  nc: NatsConnection,
  sysNc: NatsConnection,
  stream: string,
  replicas: number,
  opts: CopiesOptions & { readonly repairTimeoutMs: number; readonly log?: (line: string) => void },
): Promise<RepairResult> {
  const first = await divergentCopies(sysNc, stream, replicas, opts);
  if (first.divergent.length === 0) return { repaired: [] };
  const good = first.last.map((c) => c.server).filter((s) => !first.divergent.includes(s));
  opts.log?.(`copies disagree: ${describeCopies(first.last)}; behind: ${first.divergent.join(", ")}`);
  if (good.length === 0) {
    throw new AkiraNatsError(
      "copies-diverge",
      `no copy of ${stream} agrees with another (${describeCopies(first.last)}): stop here and compare them before going on`,
    );
  }
  await rebuildCopies(nc, stream, replicas, first.divergent, good[0] as string, opts);
  const again = await divergentCopies(sysNc, stream, replicas, opts);
  if (again.divergent.length > 0) {
    throw new AkiraNatsError(
      "copies-diverge",
      `copies of ${stream} still disagree after rebuilding ${first.divergent.join(", ")}: ${describeCopies(again.last)}`,
    );
  }
  opts.log?.(`copies agree again: ${describeCopies(again.last)}`);
  return { repaired: first.divergent };
}

/**
 * Rebuilds `peers`' copies from the leader: leadership moved to `keep` first when one of them
 * leads, each removed from the group, the stream scaled down to the peers left and back up, so the
 * meta leader places the replicas again and they catch up from nothing.
 */
export async function rebuildCopies(
  nc: NatsConnection,
  stream: string,
  replicas: number,
  peers: readonly string[],
  keep: string,
  opts: { readonly repairTimeoutMs: number; readonly log?: (line: string) => void },
): Promise<void> {
  const deadline = Date.now() + opts.repairTimeoutMs;
  // A rebuilt copy has been seen to take a durable's state with it (2.9, a copy that diverged):
  // remembered here, each is checked afterwards and put back where it was if it went missing.
  const durables = await rememberDurables(nc, stream);
  for (const peer of peers) {
    const leader = (await streamSnapshotInfo(nc, stream)).cluster?.leader;
    if (leader === peer) {
      await stepLeaderTo(nc, stream, keep, {
        deadline,
        maxStepdowns: 10,
        onProgress: (p) => opts.log?.(p.message),
      });
    }
    opts.log?.(`removing ${peer}'s copy of ${stream} so it is rebuilt from the leader`);
    try {
      await jsApiRequest(nc, `$JS.API.STREAM.PEER.REMOVE.${stream}`, { peer }, { stream });
    } catch (err) {
      // 10075 "peer remap failed": no spare server to place the replica on (3 servers, R3). The
      // peer is out of the group all the same; the scale-down/up below places it again.
      if (!(err instanceof AkiraNatsError) || err.code !== "js-10075") throw err;
    }
  }
  // With no spare server, the group now lacks the removed peer(s): scale down to the peers left
  // and back up, so the meta leader places the replica again and it catches up from nothing.
  const left = replicas - peers.length;
  const step = () => ({
    timeoutMs: Math.max(1000, deadline - Date.now()),
    canary: false,
    onProgress: (p: { message: string }) => opts.log?.(p.message),
  });
  // 2.9 takes the peer out even when it cannot place a replacement; 2.15 refuses and keeps it.
  // Then every follower is rebuilt from `keep` instead: down to one copy there, and back up.
  const removed = await waitPeersAtMost(nc, stream, left, Math.min(deadline, Date.now() + 10_000))
    .then(() => true)
    .catch(() => false);
  if (removed) {
    await changeReplicas(nc, stream, left, step());
  } else {
    opts.log?.(
      `nats-server kept ${peers.join(", ")} in ${stream}'s group (no spare server): rebuilding every follower from ${keep}`,
    );
    await changeReplicas(nc, stream, 1, { ...step(), keepPeer: keep });
  }
  await changeReplicas(nc, stream, replicas, step());
  const restored = await restoreDurables(nc, stream, durables, opts.log);
  if (restored.length > 0)
    opts.log?.(`durable consumers put back at their positions: ${restored.join(", ")}`);
}

/** Waits until the stream's group has at most `n` peers (the removal took effect). */
async function waitPeersAtMost(
  nc: NatsConnection,
  stream: string,
  n: number,
  deadline: number,
): Promise<void> {
  await waitFor(
    async () => {
      const info = await streamSnapshotInfo(nc, stream);
      return info.cluster?.leader !== undefined && 1 + info.cluster.replicas.length <= n ? true : undefined;
    },
    {
      timeoutMs: Math.max(0, deadline - Date.now()),
      intervalMs: 200,
      what: `${stream}'s group at ${n} peers`,
    },
  ).catch((err: Error) => {
    throw new AkiraNatsError(
      "copies-diverge",
      `the removed peer of ${stream} is still in its group: check the meta leader's log`,
      { cause: err },
    );
  });
}
