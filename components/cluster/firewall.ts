/**
 * Inbound rules of the GA nodes' Hetzner Cloud Firewall. Pure, so the exact rules are tested.
 *
 * What reaches a node from the internet: SSH (22) from `adminCidrs`, the NATS client port (4222)
 * from `clientCidrs`, nothing else (a Hetzner firewall drops every inbound packet no rule allows).
 *
 * The route (6222) and monitoring (8222) ports have no rule on purpose. Hetzner Cloud Firewalls
 * filter the public interfaces only; traffic inside a private Network is never filtered
 * (https://docs.hetzner.com/cloud/firewalls/faq#can-firewalls-secure-traffic-to-my-private-hetzner-cloud-networks).
 * So "6222/8222 only inside the private network" rests on two things, not on this firewall alone:
 * nats-server binds both listeners to the node's private IP (components/cluster/nodePlan.ts), so nothing
 * listens on them on the public address at all, and the private Network is dedicated to this
 * cluster (components/cluster/natsCluster.ts). The firewall is the second wall: if a listener were ever
 * bound to 0.0.0.0 by mistake, its public side would still be dropped.
 */
import { CLIENT_PORT } from "./natsConf";

export const SSH_PORT = 22;

/** One inbound rule, shaped as `hcloud.Firewall`'s `rules` items. */
export interface InboundRule {
  readonly description: string;
  readonly direction: "in";
  readonly protocol: "tcp";
  readonly port: string;
  readonly sourceIps: readonly string[];
}

/** The firewall's complete rule list, in a stable order (the order is part of the diff). */
export function firewallRules(adminCidrs: readonly string[], clientCidrs: readonly string[]): InboundRule[] {
  if (adminCidrs.length === 0) throw new Error("firewallRules: adminCidrs is empty, nobody could reach SSH");
  if (clientCidrs.length === 0)
    throw new Error("firewallRules: clientCidrs is empty, no client could reach NATS");
  return [
    {
      description: "ssh from adminCidrs",
      direction: "in",
      protocol: "tcp",
      port: String(SSH_PORT),
      sourceIps: [...adminCidrs],
    },
    {
      description: "nats clients from clientCidrs",
      direction: "in",
      protocol: "tcp",
      port: String(CLIENT_PORT),
      sourceIps: [...clientCidrs],
    },
  ];
}
