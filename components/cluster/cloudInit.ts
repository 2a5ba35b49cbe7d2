/**
 * cloud-init user data of a GA node. Pure; its exact text is tested.
 *
 * Hetzner applies `user_data` only when a server is created, and pulumi-hcloud replaces the server
 * when it changes. So this file holds only what never changes over a node's life: the `nats` system
 * user, the directories, the systemd unit and its limits. It holds NO nats-server version, NO
 * nats-server.conf and NO secret: the pinned binary is downloaded, checked against its SHA-256 and
 * installed by the node script (components/cluster/nodeScript.ts), which the remote command runs on every
 * config or version change, one node at a time, without replacing any server.
 */

/** Where things live on a VM; the node script uses the same defaults. */
export const VM_LAYOUT = {
  user: "nats",
  confDir: "/etc/nats",
  dataDir: "/var/lib/nats",
  binary: "/usr/local/bin/nats-server",
  service: "nats-server",
} as const;

/**
 * Seconds systemd waits for a stop before SIGKILL. The stop signal is SIGUSR2 (lame-duck mode), and
 * lame duck lasts `lame_duck_duration` (30 s) plus `lame_duck_grace_period` (10 s): give it room.
 */
export const STOP_TIMEOUT_SEC = 90;

/**
 * Open files: JetStream keeps two descriptors open per stream on top of one per client; the
 * nats-server project's own unit uses 800000 (nats-server util/nats-server-hardened.service).
 */
export const LIMIT_NOFILE = 800000;

/** The systemd unit, also used as-is by tests. */
export function renderSystemdUnit(): string {
  const { user, confDir, binary } = VM_LAYOUT;
  return [
    "[Unit]",
    "Description=NATS server (akira-nats)",
    "Documentation=https://docs.nats.io/running-a-nats-service/introduction",
    "After=network-online.target",
    "Wants=network-online.target",
    `ConditionPathExists=${binary}`,
    "",
    "[Service]",
    "Type=simple",
    `User=${user}`,
    `Group=${user}`,
    `WorkingDirectory=${confDir}`,
    `ExecStart=${binary} -c ${confDir}/nats-server.conf`,
    "ExecReload=/bin/kill -s HUP $MAINPID",
    "# SIGUSR2 is lame-duck mode: clients are moved to the other nodes before the server exits.",
    "KillSignal=SIGUSR2",
    `TimeoutStopSec=${STOP_TIMEOUT_SEC}`,
    "Restart=on-failure",
    "RestartSec=5",
    `LimitNOFILE=${LIMIT_NOFILE}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** A node's SSH host key pair as cloud-init installs it (nodeHostKey.ts). */
export interface HostKeyPair {
  readonly privateKey: string;
  readonly publicKey: string;
}

/**
 * The SSH host key section: the node's only host key is the program's (the image's keys are
 * deleted and none is generated), so the one key every remote command pins is the one sshd offers
 * for any algorithm a client asks for. Holds a private key: the user data is a secret.
 */
function renderHostKeySection(key: HostKeyPair): string[] {
  const privateLines = key.privateKey
    .trimEnd()
    .split("\n")
    .map((line) => `    ${line}`);
  return [
    "ssh_deletekeys: true",
    "ssh_genkeytypes: []",
    "ssh_keys:",
    "  ed25519_private: |",
    ...privateLines,
    `  ed25519_public: ${key.publicKey.trim()}`,
  ];
}

/**
 * The `#cloud-config` document of a GA node: the same on every node but for its host key, when
 * given (a node declared before the program generated host keys has none here).
 */
export function renderCloudInit(hostKey?: HostKeyPair): string {
  const { user, confDir, dataDir, service } = VM_LAYOUT;
  const unit = renderSystemdUnit()
    .trimEnd()
    .split("\n")
    .map((line) => (line === "" ? "" : `      ${line}`))
    .join("\n");
  return [
    "#cloud-config",
    "# Rendered by akira-nats. Changing this text replaces the server: keep versions, config and",
    "# secrets out of it (the node script installs and configures nats-server).",
    "write_files:",
    `  - path: /etc/systemd/system/${service}.service`,
    '    owner: "root:root"',
    '    permissions: "0644"',
    "    content: |",
    unit,
    "runcmd:",
    `  - [sh, -c, "getent passwd ${user} >/dev/null || useradd --system --home-dir ${dataDir} --no-create-home --shell /usr/sbin/nologin ${user}"]`,
    `  - [install, -d, -o, root, -g, ${user}, -m, "0750", ${confDir}]`,
    `  - [install, -d, -o, ${user}, -g, ${user}, -m, "0750", ${dataDir}]`,
    "  - [systemctl, daemon-reload]",
    `  - [systemctl, enable, ${service}.service]`,
    ...(hostKey === undefined ? [] : renderHostKeySection(hostKey)),
    "",
  ].join("\n");
}

/**
 * The same host preparation as {@link renderCloudInit}, as an idempotent POSIX shell snippet, for a
 * host this program does not create (the staging pilot): user, directories and unit, written on
 * every run so the unit the node script drives is the one rendered here.
 */
export function renderHostPrepareScript(): string {
  const { user, confDir, dataDir, service } = VM_LAYOUT;
  return [
    "# akira-nats host preparation (the GA nodes get the same from cloud-init).",
    `getent passwd ${user} >/dev/null || useradd --system --home-dir ${dataDir} --no-create-home --shell /usr/sbin/nologin ${user}`,
    `install -d -o root -g ${user} -m 0750 ${confDir}`,
    `install -d -o ${user} -g ${user} -m 0750 ${dataDir}`,
    `cat >/etc/systemd/system/${service}.service <<'AKIRA_NATS_UNIT_EOF'`,
    `${renderSystemdUnit()}AKIRA_NATS_UNIT_EOF`,
    "systemctl daemon-reload",
    `systemctl enable --quiet ${service}.service`,
    "",
  ].join("\n");
}

/**
 * Waits for first-boot cloud-init to finish (it creates the user, directories and unit the node
 * script needs); SSH comes up before cloud-init's `runcmd` has run. POSIX shell.
 */
export function renderCloudInitWait(): string {
  return [
    "# Wait for first-boot cloud-init: it creates the nats user, directories and the systemd unit.",
    "if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null 2>&1 || true; fi",
    `getent passwd ${VM_LAYOUT.user} >/dev/null || { echo "akira-nats node: cloud-init has not created the ${VM_LAYOUT.user} user (see /var/log/cloud-init-output.log)" >&2; exit 1; }`,
    "",
  ].join("\n");
}
