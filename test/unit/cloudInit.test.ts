import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import {
  renderCloudInit,
  renderCloudInitWait,
  renderHostPrepareScript,
  renderSystemdUnit,
} from "../../components/cluster/cloudInit";

const UNIT = `[Unit]
Description=NATS server (akira-nats)
Documentation=https://docs.nats.io/running-a-nats-service/introduction
After=network-online.target
Wants=network-online.target
ConditionPathExists=/usr/local/bin/nats-server

[Service]
Type=simple
User=nats
Group=nats
WorkingDirectory=/etc/nats
ExecStart=/usr/local/bin/nats-server -c /etc/nats/nats-server.conf
ExecReload=/bin/kill -s HUP $MAINPID
# SIGUSR2 is lame-duck mode: clients are moved to the other nodes before the server exits.
KillSignal=SIGUSR2
TimeoutStopSec=90
Restart=on-failure
RestartSec=5
LimitNOFILE=800000

[Install]
WantedBy=multi-user.target
`;

const CLOUD_INIT = `#cloud-config
# Rendered by akira-nats. Changing this text replaces the server: keep versions, config and
# secrets out of it (the node script installs and configures nats-server).
write_files:
  - path: /etc/systemd/system/nats-server.service
    owner: "root:root"
    permissions: "0644"
    content: |
${UNIT.trimEnd()
  .split("\n")
  .map((l) => (l === "" ? "" : `      ${l}`))
  .join("\n")}
runcmd:
  - [sh, -c, "getent passwd nats >/dev/null || useradd --system --home-dir /var/lib/nats --no-create-home --shell /usr/sbin/nologin nats"]
  - [install, -d, -o, root, -g, nats, -m, "0750", /etc/nats]
  - [install, -d, -o, nats, -g, nats, -m, "0750", /var/lib/nats]
  - [systemctl, daemon-reload]
  - [systemctl, enable, nats-server.service]
`;

describe("cloudInit - user data of a GA node", () => {
  it("systemd unit - exact text", () => {
    assert.equal(renderSystemdUnit(), UNIT);
  });

  it("cloud-config - exact text", () => {
    assert.equal(renderCloudInit(), CLOUD_INIT);
  });

  it("cloud-config - valid YAML whose unit file is the unit, byte for byte", () => {
    const doc = parse(renderCloudInit());
    assert.deepEqual(Object.keys(doc), ["write_files", "runcmd"]);
    assert.equal(doc.write_files[0].path, "/etc/systemd/system/nats-server.service");
    assert.equal(doc.write_files[0].content, UNIT);
    assert.deepEqual(doc.runcmd[1], ["install", "-d", "-o", "root", "-g", "nats", "-m", "0750", "/etc/nats"]);
  });

  it("cloud-config - holds no version, no config and nothing that changes between nodes", () => {
    const text = renderCloudInit();
    assert.doesNotMatch(text, /\d+\.\d+\.\d+/);
    assert.doesNotMatch(text, /server_name|password|routes/i);
  });
});

describe("cloudInit - preambles of the remote command", () => {
  it("host preparation - same user, directories and unit as cloud-init, unit in a quoted heredoc", () => {
    assert.equal(
      renderHostPrepareScript(),
      `# akira-nats host preparation (the GA nodes get the same from cloud-init).
getent passwd nats >/dev/null || useradd --system --home-dir /var/lib/nats --no-create-home --shell /usr/sbin/nologin nats
install -d -o root -g nats -m 0750 /etc/nats
install -d -o nats -g nats -m 0750 /var/lib/nats
cat >/etc/systemd/system/nats-server.service <<'AKIRA_NATS_UNIT_EOF'
${UNIT}AKIRA_NATS_UNIT_EOF
systemctl daemon-reload
systemctl enable --quiet nats-server.service
`,
    );
  });

  it("cloud-init wait - exact text", () => {
    assert.equal(
      renderCloudInitWait(),
      `# Wait for first-boot cloud-init: it creates the nats user, directories and the systemd unit.
if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null 2>&1 || true; fi
getent passwd nats >/dev/null || { echo "akira-nats node: cloud-init has not created the nats user (see /var/log/cloud-init-output.log)" >&2; exit 1; }
`,
    );
  });
});
