/**
 * Node-level helpers of the failover test: which address `{host}` stands for, and the graceful
 * hand-off (runbook step 9: move leadership away before a node goes down).
 */
import type { NatsConnection } from "nats";
import { AkiraNatsError } from "../../components/jetstream/errors";
import { describeCopies, mostAdvanced, sameCopy } from "../../components/jetstream/health";
import { type JsApiResponse, jsApiRequest } from "../../components/jetstream/jsApiRequest";
import { metaGroup, streamCopies } from "../../components/jetstream/peers";
import { pingServers } from "../../components/jetstream/servers";
import { streamSnapshotInfo } from "../../components/jetstream/streams";
import { waitFor } from "../../components/jetstream/waitFor";

const WILDCARD = new Set(["0.0.0.0", "::", "[::]", ""]);

/**
 * `{host}` is the address the server itself gives clients: `host` in its `$SYS.REQ.SERVER.PING`
 * answer, which is `client_advertise` when set, else the client listen address. The monitoring
 * port (`/varz`) would say the same but is private to the cluster network. A wildcard listen
 * address says nothing: then `--host NAME=ADDRESS` must name it.
 */
export async function resolveHost(sysNc: NatsConnection | undefined, node: string): Promise<string> {
  if (sysNc === undefined) {
    throw new AkiraNatsError(
      "unknown-host",
      `the commands use {host} but the address of ${node} is unknown: pass --host ${node}=ADDRESS, or the system account (--system-password / NATS_SYSTEM_PASSWORD) so the servers can tell`,
    );
  }
  const servers = await pingServers(sysNc, { timeoutMs: 3000 });
  const server = servers.find((s) => s.name === node);
  if (server === undefined) {
    throw new AkiraNatsError(
      "unknown-host",
      `${node} did not answer $SYS.REQ.SERVER.PING (answered: ${servers.map((s) => s.name).join(", ") || "none"}): is it running? pass --host ${node}=ADDRESS to go ahead`,
    );
  }
  if (WILDCARD.has(server.host)) {
    throw new AkiraNatsError(
      "unknown-host",
      `${node} listens on ${server.host || "(empty)"} and advertises no client address: pass --host ${node}=ADDRESS`,
    );
  }
  return server.host;
}

/**
 * Steps down every leader `node` holds that matters here: the stream's, the test consumer's and
 * the JetStream meta leader (`$JS.API.META.LEADER.STEPDOWN`, system account only), waiting for
 * each new election, so the stop itself costs no election.
 */
export async function gracefulHandOff(
  nc: NatsConnection,
  sysNc: NatsConnection,
  stream: string,
  durable: string | undefined,
  node: string,
  say: (message: string) => void,
): Promise<void> {
  const leaderOf = async () => (await streamSnapshotInfo(nc, stream).catch(() => undefined))?.cluster?.leader;
  if ((await leaderOf()) === node) {
    say(`stepping ${node} down as leader of ${stream}`);
    await jsApiRequest(nc, `$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { stream });
    await until(`a new leader of ${stream}`, async () => {
      const l = await leaderOf();
      return l !== undefined && l !== node;
    });
  }
  if (durable !== undefined) {
    const consumerLeader = async () =>
      (
        await jsApiRequest<JsApiResponse & { cluster?: { leader?: string } }>(
          nc,
          `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
          undefined,
          { stream },
        ).catch(() => undefined)
      )?.cluster?.leader;
    if ((await consumerLeader()) === node) {
      say(`stepping ${node} down as leader of consumer ${durable}`);
      await jsApiRequest(nc, `$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${durable}`, undefined, { stream });
      await until(`a new leader of consumer ${durable}`, async () => {
        const l = await consumerLeader();
        return l !== undefined && l !== node;
      });
    }
  }
  if ((await metaGroup(sysNc)).leader === node) {
    say(`stepping ${node} down as JetStream meta leader`);
    await jsApiRequest(sysNc, "$JS.API.META.LEADER.STEPDOWN", undefined, { timeoutMs: 5000 });
    await until("a new meta leader", async () => {
      const l = (await metaGroup(sysNc).catch(() => undefined))?.leader;
      return l !== undefined && l !== node;
    });
  }
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => ((await cond()) ? true : undefined), { timeoutMs, intervalMs: 200, what }).catch(
    (err: Error) => {
      throw new AkiraNatsError(
        "hand-off",
        `no ${what} within ${timeoutMs} ms: the cluster is not healthy enough for a graceful failover`,
        { cause: err },
      );
    },
  );
}

/**
 * "Current with lag 0" as the leader reports it is not proof: nats-server 2.9.10 can bring a
 * SIGKILLed leader back with a copy that lacks messages it had acknowledged and still call it
 * current (nats-server#2955, #4695 are the same family). So the restarted node's own copy
 * (`$SYS.REQ.SERVER.PING.JSZ`) must be seen equal to the most advanced copy of the same answer
 * at least once. Returns undefined when it was, else what the copies looked like.
 */
export async function copyLagsBehind(
  sysNc: NatsConnection,
  account: string,
  stream: string,
  node: string,
  replicas: number,
  timeoutMs: number,
): Promise<string | undefined> {
  let seen = "no copy reported";
  const caughtUp = async () => {
    const copies = await streamCopies(sysNc, account, stream, { expectServers: replicas }).catch(() => []);
    const mine = copies.find((c) => c.server === node);
    const top = mostAdvanced(copies);
    if (mine === undefined || top === undefined) return undefined;
    if (sameCopy(mine, top)) return true;
    seen = describeCopies(copies);
    return undefined;
  };
  const ok = await waitFor(caughtUp, {
    timeoutMs,
    intervalMs: 250,
    what: `${node}'s copy of ${stream}`,
  }).catch(() => false);
  return ok ? undefined : seen;
}
