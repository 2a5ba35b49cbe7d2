/**
 * What a running server says about itself, for expectations that differ per line: tests ask the
 * server (`/varz`) and the per-line table (components/jetstream/serverLines.ts), never a literal.
 */
import { expectedRouteCount } from "../../components/jetstream/serverLines";

export interface Varz {
  readonly version: string;
  readonly server_id: string;
  readonly cluster?: { readonly pool_size?: number };
}

export async function varz(monitorUrl: string): Promise<Varz> {
  const res = await fetch(`${monitorUrl}/varz`, { signal: AbortSignal.timeout(2000) });
  return (await res.json()) as Varz;
}

/** `/routez` `num_routes` of a node of a formed `nodes`-node cluster, on the line it runs. */
export async function expectedRoutes(monitorUrl: string, nodes: number): Promise<number> {
  const v = await varz(monitorUrl);
  return expectedRouteCount(v.version, nodes, v.cluster?.pool_size);
}
