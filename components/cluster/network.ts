/**
 * Address plan of the GA cluster's private network. Pure: no Pulumi, no Hetzner API call, so the
 * same addresses are known at preview time, rendered into every node's config, and tested.
 */

/**
 * Hetzner network zone of each location: a subnet lives in one zone and only servers of that
 * zone's locations can join it (https://docs.hetzner.com/cloud/networks/faq).
 */
export const NETWORK_ZONES: Readonly<Record<string, string>> = {
  fsn1: "eu-central",
  nbg1: "eu-central",
  hel1: "eu-central",
  ash: "us-east",
  hil: "us-west",
  sin: "ap-southeast",
};

/** The network zone of `location`; an unknown location is an error that lists the known ones. */
export function networkZoneFor(location: string): string {
  const zone = NETWORK_ZONES[location];
  if (zone === undefined) {
    throw new Error(
      `unknown Hetzner location "${location}": use one of ${Object.keys(NETWORK_ZONES).join(", ")} (pulumi config set akira-nats:location fsn1)`,
    );
  }
  return zone;
}

/**
 * Offset of the first node's address inside the subnet. Hetzner keeps the subnet's first address
 * for its gateway; starting at .11 leaves room and gives readable addresses (10.0.1.11, .12, .13).
 */
export const FIRST_NODE_OFFSET = 11;

/** Prefix length of the one subnet the nodes live in. */
export const SUBNET_PREFIX = 24;

/**
 * The nodes' subnet inside the private network `cidr`: its first /24 (Hetzner's own default shape,
 * network /16 with a /24 subnet), or `cidr` itself when it is a /24 or smaller.
 */
export function subnetCidr(cidr: string): string {
  const { base, prefix } = parseCidr(cidr);
  if (prefix >= SUBNET_PREFIX) return `${formatIpv4(base)}/${prefix}`;
  return `${formatIpv4(base)}/${SUBNET_PREFIX}`;
}

/** The fixed private IPv4 address of each of `count` nodes, inside {@link subnetCidr}(`cidr`). */
export function nodePrivateIps(cidr: string, count: number): string[] {
  const { base, size } = parseCidr(subnetCidr(cidr));
  // Leave the broadcast address (and everything above the last node) out.
  if (FIRST_NODE_OFFSET + count > size - 1) {
    throw new Error(
      `privateNetworkCidr ${cidr} is too small for ${count} nodes starting at offset ${FIRST_NODE_OFFSET}: use a /24 or larger`,
    );
  }
  return Array.from({ length: count }, (_, i) => formatIpv4(base + FIRST_NODE_OFFSET + i));
}

function parseCidr(cidr: string): { base: number; size: number; prefix: number } {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const prefix = Number(match?.[5]);
  if (match === null || octets.some((o) => o > 255) || prefix > 32) {
    throw new Error(`privateNetworkCidr "${cidr}" is not an IPv4 CIDR such as 10.0.1.0/24`);
  }
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: address - (address % size), size, prefix };
}

function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}
