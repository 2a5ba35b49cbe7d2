/**
 * Hetzner Cloud server types the cluster may run on: disk size, architecture, where they are
 * sold, and the monthly price the stack's cost output is computed from.
 *
 * Prices are monthly caps in EUR for Germany/Finland, excluding VAT and excluding the primary
 * IPv4 address (0.50 EUR/month per server, {@link PRIMARY_IPV4_EUR_PER_MONTH}). Hetzner changed
 * cloud prices twice in 2026: on 1 April (every server) and on 15 June (new orders and rescales
 * only; e.g. cx23 3.99 → 5.49, ccx13 15.99 → 42.99). Each entry says which list its price is
 * from (`priceAsOf`):
 * - "2026-06-15": the current list, as verified against Hetzner's price-adjustment page
 *   (docs.hetzner.com/general/infrastructure-and-availability/price-adjustment/#cloud-servers)
 *   in a public report dated 2026-08-04 — cx23, cx33, cx43, cax21, ccx13.
 * - "2026-04-01": the April list (a public price snapshot, consistent with the pricing-API
 *   figures quoted for cx23 3.99 and cx33 6.49 in April–May 2026) for the types whose June price
 *   was not found. A server ordered now costs more: treat these as lower bounds.
 * The runbook's "about 11 EUR/month for 3 × cx23" is the April price; new servers cost
 * 3 × 5.49 = 16.47 EUR/month. Re-check with `GET /v1/pricing` before quoting a figure.
 */

export type Architecture = "x86" | "arm";

export interface ServerType {
  /** Local disk in GB as Hetzner sells it. */
  readonly diskGb: number;
  /** Monthly cap, EUR, excluding VAT and the primary IPv4. */
  readonly eurPerMonth: number;
  /** Which price list `eurPerMonth` comes from (see above). */
  readonly priceAsOf: "2026-06-15" | "2026-04-01";
  readonly vcpus: number;
  readonly memoryGb: number;
  /** The nats-server release pinned by `natsSha256` is the linux-amd64 build: x86 only. */
  readonly arch: Architecture;
  /** Locations where the type can be ordered. */
  readonly locations: readonly string[];
}

/** The date the price table below was last checked against public sources. */
export const PRICES_CHECKED = "2026-11-22";

/** A server's primary IPv4 address, billed on top of the server. */
export const PRIMARY_IPV4_EUR_PER_MONTH = 0.5;

/** Every Hetzner Cloud location. */
export const HETZNER_LOCATIONS = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"] as const;

// Cost-optimised (cx, cax) types are sold in the German and Finnish locations only.
const EU = ["fsn1", "nbg1", "hel1"] as const;
const ALL = HETZNER_LOCATIONS;
const JUNE = "2026-06-15";
const APRIL = "2026-04-01";

function type(
  vcpus: number,
  memoryGb: number,
  diskGb: number,
  eurPerMonth: number,
  priceAsOf: ServerType["priceAsOf"],
  arch: Architecture,
  locations: readonly string[],
): ServerType {
  return { vcpus, memoryGb, diskGb, eurPerMonth, priceAsOf, arch, locations };
}

export const SERVER_TYPES: Readonly<Record<string, ServerType>> = {
  // Cost-optimised, shared Intel/AMD vCPU (the line that replaced cx22–cx52 in October 2025).
  cx23: type(2, 4, 40, 5.49, JUNE, "x86", EU),
  cx33: type(4, 8, 80, 8.49, JUNE, "x86", EU),
  cx43: type(8, 16, 160, 15.99, JUNE, "x86", EU),
  cx53: type(16, 32, 320, 22.49, APRIL, "x86", EU),
  // Regular performance, shared AMD vCPU.
  cpx22: type(2, 4, 80, 7.99, APRIL, "x86", ALL),
  cpx32: type(4, 8, 160, 13.99, APRIL, "x86", ALL),
  cpx42: type(8, 16, 320, 25.49, APRIL, "x86", ALL),
  cpx52: type(12, 24, 480, 36.49, APRIL, "x86", ALL),
  cpx62: type(16, 32, 640, 50.49, APRIL, "x86", ALL),
  // Ampere ARM64: listed so the validator can say why they do not fit (amd64 release).
  cax11: type(2, 4, 40, 4.49, APRIL, "arm", EU),
  cax21: type(4, 8, 80, 10.49, JUNE, "arm", EU),
  cax31: type(8, 16, 160, 15.99, APRIL, "arm", EU),
  cax41: type(16, 32, 320, 31.49, APRIL, "arm", EU),
  // General purpose, dedicated AMD vCPU.
  ccx13: type(2, 8, 80, 42.99, JUNE, "x86", ALL),
  ccx23: type(4, 16, 160, 31.49, APRIL, "x86", ALL),
  ccx33: type(8, 32, 240, 62.49, APRIL, "x86", ALL),
  ccx43: type(16, 64, 360, 124.99, APRIL, "x86", ALL),
  ccx53: type(32, 128, 600, 249.99, APRIL, "x86", ALL),
  ccx63: type(48, 192, 960, 374.49, APRIL, "x86", ALL),
};

/** Monthly list price of `count` servers of `serverType`, EUR excluding VAT, rounded to the cent. */
export function monthlyCostEur(serverType: string, count: number): number {
  return Math.round(serverTypeOf(serverType).eurPerMonth * count * 100) / 100;
}

const GB = 1_000_000_000;
/** ext4 keeps 5 % of the blocks for root by default; nats-server runs as the `nats` user. */
const ROOT_RESERVED_SHARE = 0.05;
/**
 * The OS and its logs: the Ubuntu 24.04 image installs in about 3 GB, journald may keep up to
 * 4 GB, package updates (a second kernel) need about 1 GB.
 */
const OS_HEADROOM_BYTES = 8 * GB;
/**
 * JetStream's share of what is left. The rest stays free for transient writes the limit does not
 * count: a stream restore stages the uploaded snapshot before it expands it, and file-store
 * compaction rewrites blocks before the old ones are removed.
 */
const JETSTREAM_SHARE = 0.8;

/**
 * `max_file_store` for a node of `serverType`: `(disk × 0.95 − 8 GB) × 0.8`, rounded down to a
 * whole GB (decimal GB: the smaller reading of Hetzner's "GB"). A cx23 (40 GB) gives 24 GB.
 */
export function maxFileStoreBytes(serverType: string): number {
  const disk = serverTypeOf(serverType).diskGb * GB;
  const usable = disk * (1 - ROOT_RESERVED_SHARE) - OS_HEADROOM_BYTES;
  return Math.floor((usable * JETSTREAM_SHARE) / GB) * GB;
}

function serverTypeOf(name: string): ServerType {
  const found = SERVER_TYPES[name];
  if (found === undefined) {
    throw new Error(`unknown Hetzner server type "${name}"; known: ${Object.keys(SERVER_TYPES).join(", ")}`);
  }
  return found;
}
