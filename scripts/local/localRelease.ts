/**
 * A nats-server "release" on the local disk, laid out like GitHub's release downloads
 * (`<base>/v<version>/nats-server-v<version>-linux-amd64.tar.gz`), so the node script installs
 * from a `file://` URL exactly as it installs from GitHub on a VM.
 *
 * The binary is any local nats-server (default: `$NATS_SERVER_BIN`, else the pinned line),
 * packaged under its own version for a real change of line (the rolling-upgrade rehearsal), or
 * under another version string to roll the same binary (the node script's roll tests).
 */

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { releaseTarballName } from "../../components/cluster/nodeScript";
import { natsServerBin } from "./natsServerBin";

export interface LocalRelease {
  readonly version: string;
  /** `file://` base URL for `releaseBaseUrl`. */
  readonly baseUrl: string;
  readonly tarballPath: string;
  /** Hex SHA-256 of the tarball. */
  readonly sha256: string;
}

/** Absolute path of `bin` (default: `$NATS_SERVER_BIN`, else the pinned line), looked up on the PATH if bare. */
export function installedNatsServerPath(bin = natsServerBin()): string {
  if (bin.includes("/")) return bin;
  const r = spawnSync("bash", ["-c", `command -v ${bin}`], { encoding: "utf8" });
  const path = r.stdout.trim();
  if (r.status !== 0 || path === "") {
    throw new Error(
      `${bin} not found on the PATH: run bin/setup, or set NATS_SERVER_BIN to a nats-server binary`,
    );
  }
  return path;
}

/** Packages nats-server `bin` (default: the one local servers run) as release `version` under `<dir>/releases`. */
export function packageLocalRelease(dir: string, version: string, bin?: string): LocalRelease {
  const releases = join(dir, "releases");
  const versionDir = join(releases, `v${version}`);
  mkdirSync(versionDir, { recursive: true });
  const work = mkdtempSync(join(dir, "pkg-"));
  try {
    const top = `nats-server-v${version}-linux-amd64`;
    mkdirSync(join(work, top));
    copyFileSync(installedNatsServerPath(bin), join(work, top, "nats-server"));
    const tarballPath = join(versionDir, releaseTarballName(version));
    const r = spawnSync("tar", ["-czf", tarballPath, "-C", work, top], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tar failed packaging ${version}: ${r.stderr}`);
    const sha256 = createHash("sha256").update(readFileSync(tarballPath)).digest("hex");
    return { version, baseUrl: pathToFileURL(releases).href, tarballPath, sha256 };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
