/**
 * Which nats-server binary local processes run: `$NATS_SERVER_BIN` when set, else the pinned line
 * that `bin/setup` installed into `.nats/<version>/nats-server`. Debian's system package stays
 * what it is (bookworm's 2.9.10, the oldest pilot line); it is found by version, not by default.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";

/** The project's own server folder; resolved at run time from this file, never stored anywhere. */
export const LOCAL_SERVERS_DIR = join(__dirname, "..", "..", ".nats");

/** Where `bin/setup` puts the build of `version`. */
export function localServerPath(version: string): string {
  return join(LOCAL_SERVERS_DIR, version, "nats-server");
}

/** What `bin --version` says, as x.y.z, or undefined when it does not run. */
export function binaryVersion(bin: string): string | undefined {
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return /v?(\d+\.\d+\.\d+\S*)/.exec(r.stdout)?.[1];
}

/**
 * The binary of nats-server `version`: `.nats/<version>/nats-server`, else a `nats-server` on the
 * PATH that reports that version (Debian's system package). Fails naming both places and the fix.
 */
export function natsServerBinFor(version: string): string {
  const local = localServerPath(version);
  if (existsSync(local)) return local;
  if (binaryVersion("nats-server") === version) return "nats-server";
  throw new Error(
    `nats-server ${version} is not installed: neither ${local} nor a nats-server ${version} on the PATH; run bin/setup (it installs the lines the project tests), or pass the binary's path`,
  );
}

/** The binary local processes run: `$NATS_SERVER_BIN`, else the pinned line. */
export function natsServerBin(): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return natsServerBinFor(PINNED_NATS_VERSION);
}
