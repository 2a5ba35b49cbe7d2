/** The node script renderer: input checks with exact messages, and what the text may hold. */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { renderNatsConf } from "../../components/cluster/natsConf";
import {
  appliedConfText,
  confChecksum,
  type NodeScriptInput,
  renderNodeScript,
  shellQuote,
} from "../../components/cluster/nodeScript";
import { PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";

const conf = renderNatsConf({
  serverName: "nats-1",
  clientHost: "0.0.0.0",
  monitor: { host: "10.0.1.11", port: 8222 },
  storeDir: "/var/lib/nats",
  maxFileStoreBytes: 30 * 1024 ** 3,
});
const base: NodeScriptInput = {
  natsVersion: PINNED_NATS_VERSION,
  natsSha256: "a".repeat(64),
  confText: conf,
  monitorUrl: "http://10.0.1.11:8222",
};

describe("renderNodeScript", () => {
  test("defaults - GitHub release URL, VM paths, systemd, bash syntax valid", () => {
    const script = renderNodeScript(base);
    assert.ok(
      script.includes(
        `readonly RELEASE_URL='https://github.com/nats-io/nats-server/releases/download/v${PINNED_NATS_VERSION}/nats-server-v${PINNED_NATS_VERSION}-linux-amd64.tar.gz'`,
      ),
    );
    assert.ok(script.includes("readonly CONF_DIR='/etc/nats'"));
    assert.ok(script.includes("readonly INSTALL_DIR='/opt/nats'"));
    assert.ok(script.includes("readonly BIN_LINK='/usr/local/bin/nats-server'"));
    assert.ok(script.includes("readonly SVC_START='systemctl start nats-server'"));
    assert.ok(script.includes("readonly HEALTH_TIMEOUT='120'"));
    assert.ok(script.includes(`cat <<'AKIRA_NATS_CONF_EOF'\n${conf}AKIRA_NATS_CONF_EOF\n`));
    const syntax = spawnSync("bash", ["-n", "-c", script], { encoding: "utf8" });
    assert.equal(syntax.stderr, "");
    assert.equal(syntax.status, 0);
  });

  test("every malformed field reported at once, with what to do", () => {
    assert.throws(
      () =>
        renderNodeScript({
          ...base,
          natsVersion: "v2.10",
          natsSha256: "ABC",
          monitorUrl: "10.0.1.11:8222",
          paths: { confDir: "etc/nats" },
          healthTimeoutSec: 0,
        }),
      {
        message: `renderNodeScript: natsVersion "v2.10" is not x.y.z (e.g. ${PINNED_NATS_VERSION}); natsSha256 is not 64 lowercase hex characters (take it from the release's SHA256SUMS); monitorUrl "10.0.1.11:8222" is not an http(s) URL such as http://10.0.1.11:8222; paths.confDir "etc/nats" is not an absolute path; healthTimeoutSec 0 is not a positive whole number of seconds`,
      },
    );
  });

  test("a config holding the heredoc terminator is refused", () => {
    assert.throws(() => renderNodeScript({ ...base, confText: `${conf}AKIRA_NATS_CONF_EOF\n` }), {
      message:
        "renderNodeScript: confText contains the line AKIRA_NATS_CONF_EOF, which ends the embedded config early",
    });
  });

  test("a version change changes the text (the remote command re-runs: a roll)", () => {
    assert.notEqual(renderNodeScript(base), renderNodeScript({ ...base, natsVersion: "2.10.23" }));
  });

  test("shellQuote and the applied-config checksum", () => {
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(appliedConfText("a"), "a\n");
    assert.equal(appliedConfText("a\n"), "a\n");
    assert.equal(confChecksum("a"), "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7");
  });
});
