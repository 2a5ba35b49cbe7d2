/**
 * Durable consumers' positions, recorded with a backup and checked after a restore: a consumer
 * that comes back behind its recorded ack floor would deliver processed CDRs again (re-billing),
 * and one that does not come back at all would start over.
 */
import type { NatsConnection } from "nats";
import type { ConsumerPosition } from "./backupDigests";
import { AkiraNatsError } from "./errors";
import { type JsApiResponse, jsApiRequest } from "./jsApiRequest";

interface ConsumerListJson extends JsApiResponse {
  consumers?: { name: string; config: { durable_name?: string }; ack_floor: { stream_seq: number } }[];
  total?: number;
  limit?: number;
}

/** Every durable consumer of `stream` with its ack floor, in name order. */
export async function durablePositions(nc: NatsConnection, stream: string): Promise<ConsumerPosition[]> {
  const positions: ConsumerPosition[] = [];
  for (let offset = 0; ; ) {
    const page = await jsApiRequest<ConsumerListJson>(
      nc,
      `$JS.API.CONSUMER.LIST.${stream}`,
      { offset },
      { timeoutMs: 10_000, stream },
    );
    const consumers = page.consumers ?? [];
    for (const c of consumers) {
      if (c.config.durable_name) positions.push({ name: c.name, ack_floor: c.ack_floor.stream_seq });
    }
    offset += consumers.length;
    if (consumers.length === 0 || offset >= (page.total ?? 0)) break;
  }
  return positions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Throws `restore-mismatch` naming the first consumer that is missing or behind its recorded
 * position. Returns how many positions were checked.
 */
export async function verifyPositions(
  nc: NatsConnection,
  stream: string,
  recorded: readonly ConsumerPosition[],
): Promise<number> {
  if (recorded.length === 0) return 0;
  const live = new Map((await durablePositions(nc, stream)).map((p) => [p.name, p.ack_floor]));
  for (const r of recorded) {
    const floor = live.get(r.name);
    if (floor === undefined) {
      throw new AkiraNatsError(
        "restore-mismatch",
        `stream ${stream}: durable consumer ${r.name} of the backup is missing (its ack floor was ${r.ack_floor}); the applications reading through it would start over`,
      );
    }
    if (floor < r.ack_floor) {
      throw new AkiraNatsError(
        "restore-mismatch",
        `stream ${stream}: durable consumer ${r.name} is at ack floor ${floor}, the backup recorded ${r.ack_floor}; it would deliver ${r.ack_floor - floor} processed messages again`,
      );
    }
  }
  return recorded.length;
}
