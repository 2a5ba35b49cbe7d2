/**
 * Placeholder detection: the runbook's step 3 ("replace placeholders in infra/inventory/ga.yml")
 * as a rule. The stack files ship with explicit placeholders for every value only the operator
 * knows, so `pulumi up` refuses to run until each one is replaced.
 */
import { addressIn, cidr, parseCidr } from "./configCidr";

/**
 * Address ranges and names reserved for documentation: a value inside them was copied from an
 * example and never reaches a real host. RFC 5737 (IPv4), RFC 3849 (IPv6), RFC 2606 (names).
 */
export const DOCUMENTATION_RANGES = [
  cidr("192.0.2.0/24"),
  cidr("198.51.100.0/24"),
  cidr("203.0.113.0/24"),
  cidr("2001:db8::/32"),
] as const;
export const DOCUMENTATION_DOMAINS = [
  "example.com",
  "example.org",
  "example.net",
  "example",
  "invalid",
] as const;

/** How a key's value is inspected. Secrets are only compared as a whole and never quoted. */
export type PlaceholderKind = "text" | "address" | "secret";

const TEXT_PATTERNS: readonly RegExp[] = [
  /change[-_ ]?me/i,
  /replace[-_ ]?me/i,
  /(?:^|[^a-z0-9])todo(?:[^a-z0-9]|$)/i,
  /(?:^|[^a-z0-9])x{3,}(?:[^a-z0-9]|$)/i,
  /<[^<>]*>/,
];

// A random password or a base64 key body may contain "xxx" or "todo" by chance; only a whole
// value made of a placeholder (or one containing CHANGEME / REPLACE_ME) is treated as one.
const SECRET_PATTERNS: readonly RegExp[] = [
  /change[-_ ]?me/i,
  /replace[-_ ]?me/i,
  /^\s*(?:todo|x{3,}|<[^<>]*>)\s*$/i,
];

/**
 * The placeholder found in `value`, described for a message (`"CHANGEME"`, `"<your office /32>"`,
 * `an address in the documentation range 192.0.2.0/24`), or undefined. For secrets the description never quotes
 * the value.
 */
export function findPlaceholder(value: string, kind: PlaceholderKind): string | undefined {
  if (kind === "secret") {
    return SECRET_PATTERNS.some((p) => p.test(value)) ? "a placeholder" : undefined;
  }
  for (const pattern of TEXT_PATTERNS) {
    const match = pattern.exec(value);
    if (match) return `"${match[0].replace(/^[^a-z0-9<]+|[^a-z0-9>]+$/gi, "")}"`;
  }
  if (kind === "address") return documentationAddress(value);
  return undefined;
}

/** Describes the documentation range or domain `value` (an address, CIDR or host name) falls in. */
function documentationAddress(value: string): string | undefined {
  const address = value.includes("/") ? value.slice(0, value.indexOf("/")) : value;
  const range = DOCUMENTATION_RANGES.find((r) => addressIn(address, r));
  if (range) return `an address in the documentation range ${range.address}/${range.prefix}`;
  if (value.includes("/") && typeof parseCidr(value) !== "string") return undefined;
  const host = value.toLowerCase().replace(/\.$/, "");
  const domain = DOCUMENTATION_DOMAINS.find((d) => host === d || host.endsWith(`.${d}`));
  return domain === undefined ? undefined : `a name in the documentation domain ${domain}`;
}
