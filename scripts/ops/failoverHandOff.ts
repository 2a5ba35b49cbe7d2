/**
 * The graceful failover (`--graceful`, runbook step 9): leadership moves away and the node goes
 * into lame-duck mode before it is stopped, so the stop itself costs no election.
 */
import type { NatsConnection } from "nats";
import { pingServers } from "../../components/jetstream/servers";
import { waitFor } from "../../components/jetstream/waitFor";
import { gracefulHandOff } from "./failoverNode";
import type { Probe } from "./failoverProbe";
import type { FailoverRun } from "./failoverRun";
import type { NodeAction } from "./failoverTest";

/** Needs the system account, which resolveTarget made sure of for `--graceful`. */
export async function handOff(run: FailoverRun, probe: Probe, lameDuck: NodeAction): Promise<void> {
  const sysNc = run.sysNc as NatsConnection;
  const say = (m: string) => run.progress("hand-off", m);
  await gracefulHandOff(run.nc, sysNc, run.stream, probe.own ? probe.durable : undefined, run.node, say);
  say(`lame-duck mode on ${run.node}`);
  if (await run.act("lame-duck", lameDuck)) {
    await waitNodeGone(sysNc, run.node, run.opts.commandTimeoutMs ?? 120_000, say);
  }
}

/**
 * After lame-duck mode the server exits on its own: wait until it no longer answers the system
 * ping. A node that lingers is no reason to give up: the stop command follows anyway.
 */
async function waitNodeGone(
  sysNc: NatsConnection,
  node: string,
  timeoutMs: number,
  say: (m: string) => void,
): Promise<void> {
  const gone = async () => {
    const servers = await pingServers(sysNc, { timeoutMs: 1000 }).catch(() => []);
    return servers.some((s) => s.name === node) ? undefined : true;
  };
  const left = await waitFor(gone, {
    timeoutMs,
    intervalMs: 500,
    what: `${node} to leave the cluster`,
  }).catch(() => false);
  say(
    left
      ? `${node} has left the cluster`
      : `${node} still answers after ${timeoutMs} ms of lame-duck mode: stopping it anyway`,
  );
}
