/**
 * The bash script that every NATS host runs as the text of its remote command (and that the tests
 * and the local rolling-upgrade rehearsal run in a temporary root). One node, one run:
 *
 * 1. install the pinned nats-server release into a versioned directory, after checking the
 *    tarball's SHA-256, unless that version is installed already; a stable symlink points at the
 *    version in use, so an upgrade or a downgrade is a symlink swap;
 * 2. write nats-server.conf (from this script's text) and secrets.conf (from STDIN, never the
 *    command text) into a staging directory and validate them with the NEW binary
 *    (`nats-server -t`); an invalid pair is refused and the running node is left alone;
 * 3. nothing changed and the node is healthy: no-op (an idempotent `pulumi up`);
 * 4. otherwise roll this one node: lame-duck the running server (SIGUSR2). nats-server's
 *    `lameDuckMode()` (server/server.go) first calls `transferRaftLeaders()` (server/raft.go, "Used
 *    in lameduck mode to move off the leaders"), which steps down every raft group it leads —
 *    streams, consumers, the meta group — and puts them in observer mode, and only then closes
 *    clients; so no explicit step-down request is needed (the hosts have no nats CLI anyway).
 *    Wait for the exit, swap config and binary, start, and wait for the full `/healthz`
 *    (JetStream current with the meta leader and every stream replica caught up);
 * 5. record the SHA-256 of the applied nats-server.conf for the drift check.
 *
 * The next node's command depends on this one, so a non-zero exit here stops the roll with the
 * remaining nodes untouched.
 */

import { createHash } from "node:crypto";
import { allLeaderlessHealthTexts, PINNED_NATS_VERSION } from "../jetstream/serverLines";

/** Where things live on the host. Every path absolute. */
export interface NodePaths {
  /** Directory of nats-server.conf, secrets.conf and the checksum. Default `/etc/nats`. */
  readonly confDir: string;
  /** Versioned installs live in `<installDir>/<version>/nats-server`. Default `/opt/nats`. */
  readonly installDir: string;
  /** Stable symlink the service runs. Default `/usr/local/bin/nats-server`. */
  readonly binLink: string;
  /** The host's ed25519 SSH host key, reported for the admin tunnel to pin. Default `/etc/ssh/ssh_host_ed25519_key.pub`. */
  readonly sshHostKey: string;
}

/**
 * Shell snippets that control the nats-server service. Each is run with `eval` by bash.
 * Defaults drive the systemd unit `nats-server` (its `ExecStart` must run {@link NodePaths.binLink}
 * with `-c <confDir>/nats-server.conf`, and `Restart=on-failure`, so that the clean exit after
 * lame-duck mode is not undone by a restart of the old process).
 */
export interface ServiceCommands {
  /** Starts the service. Default `systemctl start nats-server`. */
  readonly start: string;
  /** Stops the service and waits for it (a no-op once it has exited). Default `systemctl stop nats-server`. */
  readonly stop: string;
  /** Exit 0 when the service is running. Default `systemctl is-active --quiet nats-server`. */
  readonly isActive: string;
  /** Prints the server's PID (0 or nothing when stopped). Default `systemctl show --property=MainPID --value nats-server`. */
  readonly mainPid: string;
  /** Prints the last lines of the server's log. Default `journalctl -u nats-server -n 40 --no-pager`. */
  readonly logTail: string;
}

export interface NodeScriptInput {
  /** nats-server release, `x.y.z` (a pre-release suffix such as `-rc.1` allowed). */
  readonly natsVersion: string;
  /** SHA-256 of `nats-server-v<natsVersion>-linux-amd64.tar.gz`, from the release's SHA256SUMS. */
  readonly natsSha256: string;
  /** The rendered nats-server.conf (`renderNatsConf`): holds no secret. */
  readonly confText: string;
  /** This node's monitoring URL, e.g. `http://10.0.1.11:8222` (private address). */
  readonly monitorUrl: string;
  /** Host paths. Defaults: see {@link NodePaths}. */
  readonly paths?: Partial<NodePaths>;
  /** Service control. Defaults: systemd, see {@link ServiceCommands}. */
  readonly service?: Partial<ServiceCommands>;
  /** Release download base; the tarball is `<base>/v<version>/<name>`. Default {@link DEFAULT_RELEASE_BASE_URL}. */
  readonly releaseBaseUrl?: string;
  /** Seconds to wait for the full `/healthz` after a start. Default 120. */
  readonly healthTimeoutSec?: number;
  /** Seconds to wait for the lame-duck exit (lame_duck_duration plus margin). Default 120. */
  readonly stopTimeoutSec?: number;
  /** `chown` of the written config files; empty string skips it. Default `nats:nats`. */
  readonly configOwner?: string;
  /**
   * Client TLS: the node's certificate (public, in this text) and the directory the conf names for
   * it, `<confDir>/tls/<digest of the certificate>` ({@link tlsDirFor}). The key arrives on STDIN
   * after secrets.conf ({@link renderNodeStdin}). A new certificate is a new directory, so the
   * files of the running server are never overwritten, and the new ones exist before
   * `nats-server -t` checks the new conf.
   */
  readonly tls?: { readonly dir: string; readonly certificate: string };
}

export const DEFAULT_RELEASE_BASE_URL = "https://github.com/nats-io/nats-server/releases/download";
export const DEFAULT_NODE_PATHS: NodePaths = {
  confDir: "/etc/nats",
  installDir: "/opt/nats",
  binLink: "/usr/local/bin/nats-server",
  sshHostKey: "/etc/ssh/ssh_host_ed25519_key.pub",
};
export const SYSTEMD_SERVICE: ServiceCommands = {
  start: "systemctl start nats-server",
  stop: "systemctl stop nats-server",
  isActive: "systemctl is-active --quiet nats-server",
  mainPid: "systemctl show --property=MainPID --value nats-server",
  logTail: "journalctl -u nats-server -n 40 --no-pager",
};
/** File, next to nats-server.conf, holding `sha256sum` output for the applied config. */
export const CONF_CHECKSUM_FILE = "nats-server.conf.sha256";

const VERSION_RE = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const CONF_EOF = "AKIRA_NATS_CONF_EOF";
const CERT_EOF = "AKIRA_NATS_CERT_EOF";

/** The line on STDIN after which the node's TLS private key follows (secrets.conf comes before it). */
export const TLS_KEY_MARKER = "# akira-nats: the TLS private key of this node follows";

/** The command's STDIN: secrets.conf, then, with client TLS, the marker line and the node's key. */
export function renderNodeStdin(secretsConf: string, tlsKey?: string): string {
  const secrets = secretsConf.endsWith("\n") ? secretsConf : `${secretsConf}\n`;
  return tlsKey === undefined ? secrets : `${secrets}${TLS_KEY_MARKER}\n${tlsKey}`;
}

/** Where a node keeps the TLS files of `certificate`: named by its digest, so each is written once. */
export function tlsDirFor(confDir: string, certificate: string): string {
  return `${confDir}/tls/${createHash("sha256").update(certificate).digest("hex").slice(0, 16)}`;
}

/** The release tarball's file name for a version. */
export function releaseTarballName(version: string): string {
  return `nats-server-v${version}-linux-amd64.tar.gz`;
}

/**
 * The exact bytes the script writes as nats-server.conf: `confText`, newline-terminated.
 * Its SHA-256 is what the host records in {@link CONF_CHECKSUM_FILE}.
 */
export function appliedConfText(confText: string): string {
  return confText.endsWith("\n") ? confText : `${confText}\n`;
}

/** Hex SHA-256 of the config as applied; compare it with the first field of {@link CONF_CHECKSUM_FILE}. */
export function confChecksum(confText: string): string {
  return createHash("sha256").update(appliedConfText(confText)).digest("hex");
}

const HOST_KEY_LINE = /^akira-nats node: ssh host key ssh-ed25519 (SHA256:[A-Za-z0-9+/]{43})$/m;

/**
 * The ed25519 host-key fingerprint a successful run reported (`SHA256:<base64>`, as
 * `ssh-keygen -l` prints it), or undefined when the host has no such key or no ssh-keygen.
 */
export function reportedHostKey(stdout: string): string | undefined {
  return HOST_KEY_LINE.exec(stdout)?.[1];
}

/** Renders the node script. Throws on malformed input, naming the field and the fix. */
export function renderNodeScript(input: NodeScriptInput): string {
  const paths = { ...DEFAULT_NODE_PATHS, ...input.paths };
  const service = { ...SYSTEMD_SERVICE, ...input.service };
  validate(input, paths);
  const base = (input.releaseBaseUrl ?? DEFAULT_RELEASE_BASE_URL).replace(/\/+$/, "");
  const vars: Record<string, string> = {
    VERSION: input.natsVersion,
    SHA256: input.natsSha256,
    TARBALL: releaseTarballName(input.natsVersion),
    RELEASE_URL: `${base}/v${input.natsVersion}/${releaseTarballName(input.natsVersion)}`,
    MONITOR_URL: input.monitorUrl.replace(/\/+$/, ""),
    CONF_DIR: paths.confDir,
    INSTALL_DIR: paths.installDir,
    BIN_LINK: paths.binLink,
    SSH_HOST_KEY: paths.sshHostKey,
    HEALTH_TIMEOUT: String(input.healthTimeoutSec ?? 120),
    STOP_TIMEOUT: String(input.stopTimeoutSec ?? 120),
    CONFIG_OWNER: input.configOwner ?? "nats:nats",
    SVC_START: service.start,
    SVC_STOP: service.stop,
    SVC_IS_ACTIVE: service.isActive,
    SVC_MAIN_PID: service.mainPid,
    SVC_LOG_TAIL: service.logTail,
    CHECKSUM_FILE: CONF_CHECKSUM_FILE,
    TLS_DIR: input.tls?.dir ?? "",
    TLS_KEY_MARKER,
  };
  const header = [
    ...Object.entries(vars).map(([k, v]) => `readonly ${k}=${shellQuote(v)}`),
    // Every line's text: the untouched node may run any line, whatever this run installs.
    `readonly LEADERLESS_TEXTS=(${allLeaderlessHealthTexts().map(shellQuote).join(" ")})`,
  ].join("\n");
  const confBody = appliedConfText(input.confText);
  return [
    "# akira-nats node script: install, validate, roll one nats-server node. Needs bash.",
    // The remote command runs in the login shell, which may not be bash: refuse clearly then.
    `if [ -z "\${BASH_VERSION:-}" ]; then echo "akira-nats node: this script needs bash (run it with bash, or make bash the SSH user's login shell)" >&2; exit 1; fi`,
    "set -euo pipefail",
    "umask 077",
    header,
    "conf_text() {",
    `cat <<'${CONF_EOF}'`,
    confBody + CONF_EOF,
    "}",
    "tls_cert_text() {",
    `cat <<'${CERT_EOF}'`,
    appliedConfText(input.tls?.certificate ?? "") + CERT_EOF,
    "}",
    BODY,
  ].join("\n");
}

function validate(input: NodeScriptInput, paths: NodePaths): void {
  const problems: string[] = [];
  if (!VERSION_RE.test(input.natsVersion)) {
    problems.push(`natsVersion "${input.natsVersion}" is not x.y.z (e.g. ${PINNED_NATS_VERSION})`);
  }
  if (!SHA256_RE.test(input.natsSha256)) {
    problems.push("natsSha256 is not 64 lowercase hex characters (take it from the release's SHA256SUMS)");
  }
  if (!/^https?:\/\/[^\s'"]+$/.test(input.monitorUrl)) {
    problems.push(`monitorUrl "${input.monitorUrl}" is not an http(s) URL such as http://10.0.1.11:8222`);
  }
  for (const [key, value] of Object.entries(paths)) {
    if (!value.startsWith("/")) problems.push(`paths.${key} "${value}" is not an absolute path`);
  }
  for (const [key, value] of [
    ["healthTimeoutSec", input.healthTimeoutSec],
    ["stopTimeoutSec", input.stopTimeoutSec],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      problems.push(`${key} ${value} is not a positive whole number of seconds`);
    }
  }
  if (input.tls !== undefined) {
    if (!input.tls.dir.startsWith("/")) problems.push(`tls.dir "${input.tls.dir}" is not an absolute path`);
    if (
      !input.tls.certificate.includes("-----BEGIN CERTIFICATE-----") ||
      input.tls.certificate.includes(CERT_EOF)
    ) {
      problems.push("tls.certificate is not one PEM certificate");
    }
  }
  if (input.confText.split("\n").includes(CONF_EOF)) {
    problems.push(`confText contains the line ${CONF_EOF}, which ends the embedded config early`);
  }
  if (problems.length > 0) throw new Error(`renderNodeScript: ${problems.join("; ")}`);
}

/** Single-quoted bash word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The script body; the variables above are its only input besides STDIN. */
const BODY = String.raw`
# Printing must never abort the roll: the SSH channel may be gone (see the traps before the roll).
say() { printf 'akira-nats node: %s\n' "$*" 2>/dev/null || true; }
fail() { printf 'akira-nats node: %s\n' "$*" >&2 2>/dev/null || true; exit 1; }

for tool in curl sha256sum tar flock; do
  command -v "$tool" >/dev/null || fail "$tool is missing on this host: install it (apt-get install -y $tool) and re-run"
done

CONF="$CONF_DIR/nats-server.conf"
SECRETS="$CONF_DIR/secrets.conf"
TARGET_DIR="$INSTALL_DIR/$VERSION"
TARGET_BIN="$TARGET_DIR/nats-server"
STAGE=""
PKG_STAGE=""
cleanup() {
  if [ -n "$STAGE" ]; then rm -rf -- "$STAGE"; fi
  if [ -n "$PKG_STAGE" ]; then rm -rf -- "$PKG_STAGE"; fi
}
trap cleanup EXIT

# The service runs as an unprivileged user: binaries world-readable, the config directory not.
(umask 022 && mkdir -p -- "$INSTALL_DIR" "$(dirname -- "$BIN_LINK")")
if [ ! -d "$CONF_DIR" ]; then
  (umask 027 && mkdir -p -- "$CONF_DIR")
  if [ -n "$CONFIG_OWNER" ]; then chown -- "root:${"$"}{CONFIG_OWNER#*:}" "$CONF_DIR"; fi
fi
# One run at a time per host (a retried pulumi up, a manual run).
exec 9>"$CONF_DIR/.akira-nats.lock"
flock -w 300 9 || fail "another akira-nats node run holds $CONF_DIR/.akira-nats.lock for 300 s: wait for it and re-run"

# secrets.conf arrives on STDIN; it is never part of this text and never printed.
STAGE="$(mktemp -d "$CONF_DIR/.stage.XXXXXX")"
if [ -t 0 ]; then fail "secrets.conf is expected on STDIN (the remote command's stdin): nothing was changed"; fi
cat >"$STAGE/stdin"
if [ -n "$TLS_DIR" ]; then
  # secrets.conf, then the marker line, then the node's TLS key (renderNodeStdin).
  key_at="$(grep -n -x -F -- "$TLS_KEY_MARKER" "$STAGE/stdin" | head -n 1 | cut -d: -f1 || true)"
  [ -n "$key_at" ] || fail "the node's TLS key is expected on STDIN after the line '$TLS_KEY_MARKER': nothing was changed"
  head -n "$((key_at - 1))" "$STAGE/stdin" >"$STAGE/secrets.conf"
  tail -n "+$((key_at + 1))" "$STAGE/stdin" >"$STAGE/tls-key.pem"
  rm -f -- "$STAGE/stdin"
else
  mv -f -- "$STAGE/stdin" "$STAGE/secrets.conf"
fi
[ -s "$STAGE/secrets.conf" ] || fail "secrets.conf on STDIN was empty: pass renderNatsSecrets(...) as the command's stdin; nothing was changed"
conf_text >"$STAGE/nats-server.conf"

# Error output of nats-server may quote the config it read: keep secret values out of it. The
# values are taken now, while the new secrets.conf is at hand (it is moved into place later).
mapfile -t SECRET_VALUES < <(grep -o '"[^"]\{4,\}"' "$STAGE/secrets.conf" | tr -d '"' || true)
redact() {
  local text="$1" value
  for value in "${"$"}{SECRET_VALUES[@]}"; do
    text="${"$"}{text//"$value"/<redacted>}"
  done
  printf '%s\n' "$text"
}

alive() {
  local state
  state="$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# The lock's descriptor must not leak into the server, or the server would hold the lock forever.
start_service() { eval "$SVC_START" 9>&-; }

is_active() { eval "$SVC_IS_ACTIVE" >/dev/null 2>&1; }

log_tail() { redact "$(eval "$SVC_LOG_TAIL" 2>&1 || true)" >&2; }

# Prints the answer's body (or curl's error); exit 0 only on HTTP 200.
healthz() {
  local out code
  out="$(curl -sS --max-time 3 -w '\n%{http_code}' "$MONITOR_URL$1" 2>&1)" || { printf '%s' "$out"; return 1; }
  code="${"$"}{out##*$'\n'}"
  printf '%s' "${"$"}{out%$'\n'*}"
  [ "$code" = 200 ]
}

# True when a /healthz answer says no meta leader is reachable (the texts differ per server line).
is_leaderless() {
  local text
  for text in "${"$"}{LEADERLESS_TEXTS[@]}"; do [[ $1 == *"$text"* ]] && return 0; done
  return 1
}

left_leaderless=false

# wait_healthy PATH [leaderless-ok]
wait_healthy() {
  local path="$1" leaderless_ok="${"$"}{2:-}" deadline=$((SECONDS + HEALTH_TIMEOUT)) last="no answer yet"
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! is_active; then
      log_tail
      fail "nats-server is not running after the start (log above): fix the cause and re-run pulumi up; the roll stops at this node"
    fi
    if last="$(healthz "$path")"; then return 0; fi
    sleep 0.5
  done
  # An untouched node of a cluster whose peers are down or not deployed yet (a first deployment
  # that stopped at a later node) can never be healthy on its own: waiting here would keep the
  # later nodes from ever coming up. Nothing was changed on this node, so let the run go on.
  if [ -n "$leaderless_ok" ] && is_leaderless "$last"; then
    say "warning: no JetStream meta leader within $HEALTH_TIMEOUT s (the peers are down or not deployed yet); this node was left as it was, continuing so the next nodes can come up"
    left_leaderless=true
    return 0
  fi
  log_tail
  fail "$MONITOR_URL$path not ok within $HEALTH_TIMEOUT s (last answer: $last); the roll stops at this node and the remaining nodes are untouched: check the log above, fix, re-run pulumi up"
}

record_checksum() {
  (cd -- "$CONF_DIR" && sha256sum nats-server.conf >"$CHECKSUM_FILE.tmp" && mv -f -- "$CHECKSUM_FILE.tmp" "$CHECKSUM_FILE")
  chmod 0644 "$CONF_DIR/$CHECKSUM_FILE"
}

# The host's ed25519 key as the host itself has it, in the command's output: an operator can compare
# it with the key the stack pins (output nodes[].sshHostKey) when a connection is refused.
say_host_key() {
  local fp=""
  if [ -r "$SSH_HOST_KEY" ] && command -v ssh-keygen >/dev/null; then
    fp="$(ssh-keygen -l -E sha256 -f "$SSH_HOST_KEY" 2>/dev/null | awk '{print $2}')" || fp=""
  fi
  if [ -n "$fp" ]; then say "ssh host key ssh-ed25519 $fp"; fi
}

# --- 1. the pinned release, verified, in its own versioned directory ---------------------------
if [ -x "$TARGET_BIN" ] && [ "$(cat "$TARGET_DIR/tarball.sha256" 2>/dev/null || true)" = "$SHA256" ]; then
  say "nats-server $VERSION already installed in $TARGET_DIR"
else
  PKG_STAGE="$(mktemp -d "$INSTALL_DIR/.stage-$VERSION.XXXXXX")"
  say "downloading $RELEASE_URL"
  curl -fsSL --retry 3 -o "$PKG_STAGE/$TARBALL" "$RELEASE_URL" \
    || fail "download of $RELEASE_URL failed: check natsVersion and the host's outbound HTTPS; nothing was changed"
  actual="$(sha256sum "$PKG_STAGE/$TARBALL" | cut -d' ' -f1)"
  [ "$actual" = "$SHA256" ] \
    || fail "SHA-256 mismatch for $TARBALL: expected $SHA256 (natsSha256), got $actual; refusing to install, nothing was changed: set natsSha256 from the release's SHA256SUMS"
  tar -xzf "$PKG_STAGE/$TARBALL" -C "$PKG_STAGE" \
    || fail "$TARBALL is not a readable tar.gz; nothing was changed"
  unpacked="$PKG_STAGE/nats-server-v$VERSION-linux-amd64/nats-server"
  [ -f "$unpacked" ] || fail "$TARBALL has no nats-server-v$VERSION-linux-amd64/nats-server; nothing was changed"
  chmod 0755 "$unpacked"
  "$unpacked" --version >/dev/null 2>&1 || fail "the nats-server in $TARBALL does not run on this host (wrong architecture?); nothing was changed"
  mkdir "$PKG_STAGE/pkg"
  mv -- "$unpacked" "$PKG_STAGE/pkg/nats-server"
  printf '%s\n' "$SHA256" >"$PKG_STAGE/pkg/tarball.sha256"
  chmod 0755 "$PKG_STAGE/pkg"
  # A directory rename is atomic: a version directory is complete or absent.
  rm -rf -- "$TARGET_DIR"
  mv -- "$PKG_STAGE/pkg" "$TARGET_DIR"
  say "installed nats-server $VERSION in $TARGET_DIR (SHA-256 verified)"
fi

# --- 1b. the TLS files the new conf names: a new directory per certificate ----------------------
# The running server keeps the files it started with: nothing of theirs is overwritten. A
# directory appears complete or not at all (renamed into place).
if [ -n "$TLS_DIR" ] && [ ! -d "$TLS_DIR" ]; then
  tls_parent="$(dirname -- "$TLS_DIR")"
  if [ ! -d "$tls_parent" ]; then
    (umask 027 && mkdir -p -- "$tls_parent")
    if [ -n "$CONFIG_OWNER" ]; then chown -- "root:${"$"}{CONFIG_OWNER#*:}" "$tls_parent"; fi
  fi
  tls_stage="$(mktemp -d "$tls_parent/.stage.XXXXXX")"
  tls_cert_text >"$tls_stage/cert.pem"
  mv -f -- "$STAGE/tls-key.pem" "$tls_stage/key.pem"
  chmod 0644 "$tls_stage/cert.pem"
  chmod 0640 "$tls_stage/key.pem"
  chmod 0750 "$tls_stage"
  if [ -n "$CONFIG_OWNER" ]; then chown -- "root:${"$"}{CONFIG_OWNER#*:}" "$tls_stage" "$tls_stage/key.pem"; fi
  mv -T -- "$tls_stage" "$TLS_DIR"
  say "TLS certificate installed in $TLS_DIR"
fi

# Once healthy on the new conf, the directories of earlier certificates are not needed any more.
prune_tls() {
  local d
  [ -n "$TLS_DIR" ] || return 0
  for d in "$(dirname -- "$TLS_DIR")"/*/; do
    [ "${"$"}{d%/}" = "$TLS_DIR" ] || rm -rf -- "${"$"}{d%/}"
  done
}

# --- 2. validate the new pair with the new binary before anything running is touched ----------
if ! check="$("$TARGET_BIN" -t -c "$STAGE/nats-server.conf" 2>&1)"; then
  printf '%s\n' "$(redact "$check")" >&2
  fail "nats-server $VERSION refuses the new configuration (above): nothing was changed, the running node keeps its old configuration; fix the config and re-run pulumi up"
fi

changes=()
[ "$(readlink -- "$BIN_LINK" 2>/dev/null || true)" = "$TARGET_BIN" ] || changes+=("binary -> $VERSION")
cmp -s -- "$STAGE/nats-server.conf" "$CONF" || changes+=("nats-server.conf")
cmp -s -- "$STAGE/secrets.conf" "$SECRETS" || changes+=("secrets.conf")

# A node counts as part of a formed JetStream cluster once its full /healthz passed: from then on
# every roll of it waits for the full /healthz (JetStream current). Until then (a first deployment,
# or the re-run of one that stopped half-way) its gate is "JetStream enabled": from nats-server
# 2.11 on, a new cluster elects its first meta leader only once every configured peer is up
# (docs/server-lines.md), so a node of a half-deployed cluster cannot pass the full check before
# the later nodes exist, and waiting for it would keep them from ever being deployed.
formed_mark="$CONF_DIR/.jetstream-formed"
mark_if_formed() { if healthz /healthz >/dev/null 2>&1; then : >"$formed_mark"; fi; }
if [ ! -f "$formed_mark" ] && is_active; then mark_if_formed; fi
gate="/healthz"
if [ ! -f "$formed_mark" ]; then gate="/healthz?js-enabled-only=true"; fi

# --- 3. nothing changed -----------------------------------------------------------------------
if [ "${"$"}{#changes[@]}" -eq 0 ]; then
  if ! is_active; then
    say "configuration unchanged, nats-server not running: starting it"
    start_service || { log_tail; fail "starting nats-server failed (log above); the roll stops at this node"; }
  fi
  wait_healthy "$gate" leaderless-ok
  mark_if_formed
  record_checksum
  prune_tls
  if [ "$left_leaderless" = true ]; then
    say "unchanged: nats-server $VERSION running without a meta leader, nothing to do"
  else
    say "unchanged: nats-server $VERSION healthy, nothing to do"
  fi
  say_host_key
  exit 0
fi

# --- 4. roll this node --------------------------------------------------------------------------
say "changes: ${"$"}{changes[*]}"
# From here on the node goes down and must come back: a dropped SSH session (HUP) or a closed
# output pipe must not leave it stopped half-way. The run finishes on its own.
trap '' HUP PIPE
if is_active; then
  pid="$(eval "$SVC_MAIN_PID" 2>/dev/null || true)"
  if [ -n "$pid" ] && [ "$pid" != 0 ] && alive "$pid"; then
    # Lame-duck mode (SIGUSR2) first moves this server's raft leaders (streams, meta) to its peers,
    # stops accepting clients and sends connected clients to the other servers, then exits.
    say "lame-duck mode for pid $pid: leaders move to the peers, clients reconnect elsewhere"
    start_ldm=$SECONDS
    kill -USR2 "$pid" || fail "could not signal lame-duck mode to pid $pid: run this as root"
    deadline=$((SECONDS + STOP_TIMEOUT))
    while alive "$pid"; do
      [ "$SECONDS" -lt "$deadline" ] || fail "nats-server pid $pid still running $STOP_TIMEOUT s after lame-duck mode: nothing was swapped; stop it by hand or raise stopTimeoutSec, then re-run"
      sleep 0.2
    done
    say "nats-server exited after $((SECONDS - start_ldm)) s of lame-duck mode"
  fi
  eval "$SVC_STOP" >/dev/null 2>&1 || true
fi

if [ -n "$CONFIG_OWNER" ]; then chown -- "$CONFIG_OWNER" "$STAGE/nats-server.conf" "$STAGE/secrets.conf"; fi
chmod 0640 "$STAGE/nats-server.conf"
chmod 0600 "$STAGE/secrets.conf"
mv -f -- "$STAGE/secrets.conf" "$SECRETS"
mv -f -- "$STAGE/nats-server.conf" "$CONF"
ln -sfn -- "$TARGET_BIN" "$BIN_LINK.akira-new"
mv -Tf -- "$BIN_LINK.akira-new" "$BIN_LINK"

say "starting nats-server $VERSION"
start_service || { log_tail; fail "starting nats-server failed (log above); the roll stops at this node"; }
wait_healthy "$gate"
mark_if_formed
record_checksum
prune_tls
say "healthy: nats-server $VERSION, $MONITOR_URL$gate ok"
say_host_key
`;
