/**
 * IPv4/IPv6 address and CIDR arithmetic for the stack-config rules: parsing with a precise reason
 * on failure, host-bit checks (the Hetzner firewall and network APIs want network addresses), and
 * containment tests (RFC 1918, documentation ranges). Pure; no dependency beyond `node:net`.
 */
import { isIPv4, isIPv6 } from "node:net";

export interface Cidr {
  readonly family: 4 | 6;
  /** The address as written (before any host-bit check). */
  readonly address: string;
  readonly prefix: number;
  /** The address as an unsigned integer (32 or 128 bits). */
  readonly value: bigint;
}

/** Parses `a.b.c.d/n` or `x:y::z/n`. Returns the reason as a string when it is not a CIDR. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf("/");
  if (slash < 0) return "has no prefix length (write e.g. 198.51.100.7/32 for one address)";
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined) return `"${address}" is not an IPv4 or IPv6 address`;
  const bits = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    return `the prefix length must be a whole number from 0 to ${bits}`;
  }
  return { family, address, prefix: Number(prefixText), value: addressValue(address, family) };
}

/** The address with every host bit cleared, as a CIDR string (`10.1.2.3/16` → `10.1.0.0/16`). */
export function networkOf(cidr: Cidr): string {
  const bits = cidr.family === 4 ? 32 : 128;
  const hostBits = BigInt(bits - cidr.prefix);
  const network = (cidr.value >> hostBits) << hostBits;
  return `${formatAddress(network, cidr.family)}/${cidr.prefix}`;
}

/** True when no host bit is set, i.e. the CIDR is written as its network address. */
export function isNetworkAddress(cidr: Cidr): boolean {
  return networkOf(cidr) === `${formatAddress(cidr.value, cidr.family)}/${cidr.prefix}`;
}

/** True when every address of `inner` lies inside `outer` (same family). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  const shift = BigInt((outer.family === 4 ? 32 : 128) - outer.prefix);
  return outer.value >> shift === inner.value >> shift;
}

/** True when the address (a bare IP, not a CIDR) lies inside `range`. */
export function addressIn(address: string, range: Cidr): boolean {
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined || family !== range.family) return false;
  const bits = family === 4 ? 32 : 128;
  return cidrContains(range, { family, address, prefix: bits, value: addressValue(address, family) });
}

/** Parses a CIDR that is known to be valid (constants in code). */
export function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (typeof parsed === "string") throw new Error(`invalid CIDR constant ${text}: ${parsed}`);
  return parsed;
}

function addressValue(address: string, family: 4 | 6): bigint {
  if (family === 4) return ipv4Value(address);
  // Expand `::` and a trailing dotted IPv4 part (`::ffff:192.0.2.1`) into eight 16-bit groups.
  let text = address;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = ipv4Value(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(rest === undefined ? 0 : missing).fill("0"), ...restGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

function ipv4Value(address: string): bigint {
  return address.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function formatAddress(value: bigint, family: 4 | 6): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join(".");
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}
