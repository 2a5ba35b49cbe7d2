/**
 * `bin/setup`'s second half: installs the nats-server lines the project runs locally (the pinned
 * one, and the ones the upgrade rehearsals step through) into `.nats/<version>/nats-server`.
 *
 * Each comes from the Debian suite that carries it, through this machine's own apt configuration:
 * the archive's address is read from the configured sources (`apt-get indextargets`), a private
 * sources list, state and cache directory under `.nats/.apt` point apt at the other suite, and the
 * package is downloaded and unpacked (`apt-get download`, `dpkg-deb -x`), never installed. The
 * system's nats-server package is left alone. Re-running skips builds already in place.
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { DEBIAN_BUILDS, type DebianBuild } from "../../components/jetstream/serverLines";
import { binaryVersion, LOCAL_SERVERS_DIR, localServerPath } from "./natsServerBin";

const APT_DIR = join(LOCAL_SERVERS_DIR, ".apt");
const ARCHIVE_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

function run(cmd: string, args: readonly string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd });
  if (r.error !== undefined) throw new Error(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** The base URI of the Debian archive this machine's apt already uses (its `main` component). */
export function configuredDebianArchive(): string | undefined {
  const r = spawnSync("apt-get", ["indextargets", "--format", "$(SITE) $(RELEASE) $(COMPONENT)"], {
    encoding: "utf8",
  });
  if (r.status !== 0) return undefined;
  // The plain suite (e.g. "bookworm"), not -updates or -security, which live in other archives.
  const rows = r.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 3 && f[2] === "main" && /^[a-z]+$/.test(f[1] ?? ""));
  return rows[0]?.[0];
}

function aptOptions(): string[] {
  return [
    "-o",
    "Dir::Etc::SourceList=/dev/null",
    "-o",
    `Dir::Etc::SourceParts=${join(APT_DIR, "sources.list.d")}`,
    "-o",
    `Dir::State=${join(APT_DIR, "state")}`,
    "-o",
    `Dir::Cache=${join(APT_DIR, "cache")}`,
    "-o",
    "Dir::Etc::Preferences=/dev/null",
    "-o",
    `Dir::Etc::PreferencesParts=${join(APT_DIR, "preferences.d")}`,
    // As root, apt downloads as its unprivileged _apt user, which may not write our folder.
    ...(process.getuid?.() === 0 ? ["-o", "APT::Sandbox::User=root"] : []),
    "-qq",
  ];
}

function writePrivateSources(archive: string, suites: readonly string[]): void {
  for (const d of ["sources.list.d", "preferences.d", "state/lists/partial", "cache/archives/partial"]) {
    mkdirSync(join(APT_DIR, d), { recursive: true });
  }
  const signedBy = existsSync(ARCHIVE_KEYRING) ? `Signed-By: ${ARCHIVE_KEYRING}\n` : "";
  writeFileSync(
    join(APT_DIR, "sources.list.d", "nats-lines.sources"),
    `Types: deb\nURIs: ${archive}\nSuites: ${[...new Set(suites)].join(" ")}\nComponents: main\n${signedBy}`,
  );
}

function unpack(version: string, build: DebianBuild): void {
  const work = mkdtempSync(join(LOCAL_SERVERS_DIR, `.unpack-${version}-`));
  try {
    run("apt-get", [...aptOptions(), "download", `nats-server=${build.packageVersion}`], work);
    const deb = readdirSync(work).find((f) => f.endsWith(".deb"));
    if (deb === undefined) throw new Error(`apt-get download left no .deb for nats-server ${version}`);
    run("dpkg-deb", ["-x", join(work, deb), join(work, "root")]);
    const bin = ["usr/sbin/nats-server", "usr/bin/nats-server"]
      .map((p) => join(work, "root", p))
      .find((p) => existsSync(p));
    if (bin === undefined) throw new Error(`the ${deb} package holds no nats-server binary`);
    const target = localServerPath(version);
    mkdirSync(join(LOCAL_SERVERS_DIR, version), { recursive: true });
    copyFileSync(bin, `${target}.tmp`);
    run("chmod", ["0755", `${target}.tmp`]);
    const got = binaryVersion(`${target}.tmp`);
    if (got !== version) throw new Error(`the ${deb} package's nats-server reports ${got}, not ${version}`);
    run("mv", ["-f", `${target}.tmp`, target]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function install(): number {
  const wanted = Object.entries(DEBIAN_BUILDS).filter(([v]) => binaryVersion(localServerPath(v)) !== v);
  for (const [v] of Object.entries(DEBIAN_BUILDS)) {
    if (!wanted.some(([w]) => w === v))
      console.log(`nats-server ${v}: ${localServerPath(v)} (already there)`);
  }
  if (wanted.length === 0) return 0;
  const archive = configuredDebianArchive();
  if (archive === undefined) {
    for (const [v] of wanted) {
      console.error(
        `nats-server ${v}: this machine's apt has no Debian archive to take it from. Download nats-server-v${v}-linux-amd64.tar.gz from the nats-server ${v} release, check it against that release's SHA256SUMS, and put its nats-server at ${localServerPath(v)} (or set NATS_SERVER_BIN to it)`,
      );
    }
    return 1;
  }
  mkdirSync(LOCAL_SERVERS_DIR, { recursive: true });
  writePrivateSources(
    archive,
    wanted.map(([, b]) => b.suite),
  );
  run("apt-get", [...aptOptions(), "update"]);
  for (const [v, build] of wanted) {
    unpack(v, build);
    console.log(`nats-server ${v}: ${localServerPath(v)} (Debian ${build.suite}, ${build.packageVersion})`);
  }
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = install();
  } catch (err) {
    console.error(`bin/setup: installing the nats-server lines failed: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
