/**
 * Stream drift: the declared stream settings against the live stream, read with
 * `$JS.API.STREAM.INFO` through the stream operations the stream resource uses
 * (components/jetstream/streams.ts), so `drift` and the resource's `read` agree on what differs.
 * This catches `nats stream edit --replicas 1` or a limit changed by hand, whatever Pulumi's
 * state says, and from a workstation without the Pulumi CLI.
 */
import type { NatsConnection } from "nats";
import {
  type DeclaredStreamSettings,
  declaredFromConfig,
  diffDeclared,
  findStream,
} from "../../components/jetstream/streams";
import type { DeclaredStream } from "./declaredStream";
import type { DriftFinding } from "./driftReport";

/** The live settings in the declared units, or `undefined` when the stream does not exist. */
export async function readLiveStream(
  nc: NatsConnection,
  name: string,
): Promise<Required<DeclaredStreamSettings> | undefined> {
  const snapshot = await findStream(nc, name);
  return snapshot === undefined ? undefined : declaredFromConfig(snapshot.config);
}

/** Pure: one finding per declared field whose live value differs; a vanished stream is one finding. */
export function compareStream(
  declared: DeclaredStream,
  live: Required<DeclaredStreamSettings> | undefined,
): DriftFinding[] {
  if (live === undefined) {
    return [{ check: "stream", target: declared.name, field: "exists", declared: "true", live: "false" }];
  }
  const { name: _name, ...settings } = declared;
  return diffDeclared(settings, live).map((c) => ({
    check: "stream",
    target: declared.name,
    field: c.field,
    declared: show(c.declared),
    live: show(c.live),
  }));
}

function show(value: unknown): string {
  return Array.isArray(value) ? JSON.stringify(value) : String(value);
}
