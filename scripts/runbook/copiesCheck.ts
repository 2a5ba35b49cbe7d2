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
import { AkiraNatsError } from "../../components/jetstream/errors";
import { type StreamCopy, streamCopies } from "../../components/jetstream/peers";
import { changeReplicas, stepLeaderTo } from "../../components/jetstream/replicas";
import { jsApi, streamSnapshotInfo } from "../../components/jetstream/streams";
import { CLIENT_ACCOUNT } from "../../components/natsConf";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const agreed = new Set<string>();
  let last: StreamCopy[] = [];
  while (Date.now() < deadline) {
    last = await streamCopies(sysNc, opts.account ?? CLIENT_ACCOUNT, stream, {
      expectServers: replicas,
    }).catch(() => last);
    const top = last.reduce<StreamCopy | undefined>(
      (a, c) => (a === undefined || c.lastSeq > a.lastSeq ? c : a),
      undefined,
    );
    for (const c of last) {
      if (top !== undefined && c.lastSeq === top.lastSeq && c.messages === top.messages) agreed.add(c.server);
    }
    if (last.length === replicas && last.every((c) => agreed.has(c.server))) return { divergent: [], last };
    await sleep(opts.pollMs ?? 200);
  }
  const names = last.map((c) => c.server);
  return { divergent: names.filter((n) => !agreed.has(n)), last };
}

function describe(copies: readonly StreamCopy[]): string {
  return copies.map((c) => `${c.server} ${c.messages} msgs/seq ${c.lastSeq}`).join(", ");
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
  opts.log?.(`copies disagree: ${describe(first.last)}; behind: ${first.divergent.join(", ")}`);
  if (good.length === 0) {
    throw new AkiraNatsError(
      "copies-diverge",
      `no copy of ${stream} agrees with another (${describe(first.last)}): stop here and compare them before going on`,
    );
  }
  const deadline = Date.now() + opts.repairTimeoutMs;
  for (const peer of first.divergent) {
    const leader = (await streamSnapshotInfo(nc, stream)).cluster?.leader;
    if (leader === peer) {
      await stepLeaderTo(nc, stream, good[0] as string, {
        deadline,
        maxStepdowns: 10,
        onProgress: (p) => opts.log?.(p.message),
      });
    }
    opts.log?.(`removing ${peer}'s copy of ${stream} so it is rebuilt from the leader`);
    try {
      await jsApi(nc, `STREAM.PEER.REMOVE.${stream}`, { peer }, { stream });
    } catch (err) {
      // 10075 "peer remap failed": no spare server to place the replica on (3 servers, R3). The
      // peer is out of the group all the same; the scale-down/up below places it again.
      if (!(err instanceof AkiraNatsError) || err.code !== "js-10075") throw err;
    }
  }
  // With no spare server, the group now lacks the removed peer(s): scale down to the peers left
  // and back up, so the meta leader places the replica again and it catches up from nothing.
  const left = replicas - first.divergent.length;
  const step = {
    timeoutMs: Math.max(1000, deadline - Date.now()),
    canary: false,
    onProgress: (p: { message: string }) => opts.log?.(p.message),
  };
  await waitPeersAtMost(nc, stream, left, deadline);
  await changeReplicas(nc, stream, left, step);
  await changeReplicas(nc, stream, replicas, { ...step, timeoutMs: Math.max(1000, deadline - Date.now()) });
  const again = await divergentCopies(sysNc, stream, replicas, opts);
  if (again.divergent.length > 0) {
    throw new AkiraNatsError(
      "copies-diverge",
      `copies of ${stream} still disagree after rebuilding ${first.divergent.join(", ")}: ${describe(again.last)}`,
    );
  }
  opts.log?.(`copies agree again: ${describe(again.last)}`);
  return { repaired: first.divergent };
}

/** Waits until the stream's group has at most `n` peers (the removal took effect). */
async function waitPeersAtMost(
  nc: NatsConnection,
  stream: string,
  n: number,
  deadline: number,
): Promise<void> {
  while (Date.now() < deadline) {
    const info = await streamSnapshotInfo(nc, stream).catch(() => undefined);
    if (info?.cluster?.leader !== undefined && 1 + info.cluster.replicas.length <= n) return;
    await sleep(200);
  }
  throw new AkiraNatsError(
    "copies-diverge",
    `the removed peer of ${stream} is still in its group: check the meta leader's log`,
  );
}
