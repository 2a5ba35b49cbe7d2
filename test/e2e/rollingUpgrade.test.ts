/**
 * The rolling-upgrade rehearsal end to end: a real 3-node cluster under live CDR traffic, rolled
 * node by node through the node script. Short lame-duck grace period to keep it quick; everything
 * else as on the VMs.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { assertNatsServerInstalled } from "../../scripts/local/localNats";
import {
  REPORT_FILE,
  type RollingUpgradeProgress,
  rehearseRollingUpgrade,
} from "../../scripts/rehearsal/rollingUpgrade";

test("rolling upgrade rehearsal - every node rolled in order under traffic, 0 failed publishes, nothing lost", async (t) => {
  assertNatsServerInstalled();
  const dir = mkdtempSync(join(tmpdir(), "akira-rolling-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const events: RollingUpgradeProgress[] = [];

  const report = await rehearseRollingUpgrade({
    dir,
    ratePerSec: 50,
    minMessages: 600,
    lameDuckGracePeriod: "1s",
    onProgress: (e) => events.push(e),
  });

  assert.deepEqual(
    events
      .filter((e) => e.phase === "node-start" || e.phase === "node-done")
      .map((e) => `${e.phase}:${"node" in e ? e.node : ""}`),
    [
      "node-start:nats-1",
      "node-done:nats-1",
      "node-start:nats-2",
      "node-done:nats-2",
      "node-start:nats-3",
      "node-done:nats-3",
    ],
  );
  assert.deepEqual(
    report.nodes.map((n) => [n.name, n.ok]),
    [
      ["nats-1", true],
      ["nats-2", true],
      ["nats-3", true],
    ],
  );
  for (const n of report.nodes) assert.notEqual(n.streamLeaderAfter, "", `stream led after ${n.name}`);
  assert.equal(report.failedPublishes, 0);
  assert.ok(report.published >= 600);
  assert.equal(report.acked, report.published);
  assert.equal(report.lost, 0);
  assert.equal(report.duplicates, 0);
  assert.equal(report.stored, report.acked);
  assert.equal(report.ok, true);
  // A publish gap is a leader election or a reconnect, never a node's whole restart.
  assert.ok(report.maxPublishGapMs < 5000, `longest publish gap ${report.maxPublishGapMs} ms`);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, REPORT_FILE), "utf8")), report);
});
