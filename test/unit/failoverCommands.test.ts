import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseHostMap } from "../../scripts/commands/failoverTestCommand";
import { monitorUrls } from "../../scripts/commands/monitorCommand";
import { testSubjectPrefix } from "../../scripts/ops/failoverTest";
import { substitute } from "../../scripts/ops/shellCommand";

describe("failover-test - command templates", () => {
  it("fills {node} and {host}", () => {
    assert.equal(
      substitute("ssh root@{host} systemctl stop nats-server # {node}", {
        node: "nats-2",
        host: "10.0.1.12",
      }),
      "ssh root@10.0.1.12 systemctl stop nats-server # nats-2",
    );
    assert.equal(substitute("kill {node}", { node: "nats-1" }), "kill nats-1");
  });

  it("refuses a missing host and shell syntax", () => {
    assert.throws(() => substitute("ssh root@{host} true", { node: "nats-2" }), {
      message:
        'the command "ssh root@{host} true" uses {host} but the host of nats-2 is unknown: pass --host nats-2=ADDRESS',
    });
    assert.throws(() => substitute("ssh root@{host} true", { node: "nats-2", host: "x;rm -rf /" }), {
      message:
        'refusing to put host "x;rm -rf /" into a shell command: only letters, digits and . _ : - [ ] are allowed',
    });
  });

  it("--host NAME=ADDRESS, repeatable and comma-separated", () => {
    assert.deepEqual(parseHostMap(["nats-1=10.0.1.11,nats-2=10.0.1.12", "nats-3=[fd00::3]"]), {
      "nats-1": "10.0.1.11",
      "nats-2": "10.0.1.12",
      "nats-3": "[fd00::3]",
    });
    assert.throws(() => parseHostMap(["nats-1"]), {
      message: '--host must look like NAME=ADDRESS (e.g. nats-1=10.0.1.11), got "nats-1"',
    });
  });

  it("test subjects live under the stream's wildcard subject", () => {
    assert.equal(testSubjectPrefix("AKIRA_CDR", ["akira.cdr.>"]), "akira.cdr.failover-test");
    assert.throws(() => testSubjectPrefix("X", ["x.one"]), {
      message: 'X has no subject ending in ".>" (x.one) to put test CDRs under: pass --subject-prefix',
    });
  });
});

describe("monitor - monitoring URLs", () => {
  it("derived from the client URLs with the monitoring port, or given", () => {
    assert.deepEqual(monitorUrls({ server: "nats://10.0.1.11:4222, nats://akira@10.0.1.12:4222" }, {}), [
      "http://10.0.1.11:8222",
      "http://10.0.1.12:8222",
    ]);
    assert.deepEqual(monitorUrls({ monitorPort: "18222" }, { NATS_URL: "127.0.0.1:4222" }), [
      "http://127.0.0.1:18222",
    ]);
    assert.deepEqual(monitorUrls({ monitor: "http://127.0.0.1:18222,http://127.0.0.1:18223" }), [
      "http://127.0.0.1:18222",
      "http://127.0.0.1:18223",
    ]);
    assert.throws(() => monitorUrls({ monitor: "10.0.1.11:8222" }), {
      message: '--monitor takes URLs such as http://10.0.1.11:8222, got "10.0.1.11:8222"',
    });
  });
});
