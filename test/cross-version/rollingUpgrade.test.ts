/**
 * A real rolling upgrade across server lines: a 3-node cluster on the oldest pilot line rolled to
 * the next line under live CDR traffic, node by node through the node script, each gated on its
 * /healthz. Versions are the binaries' own and each node's /varz, never a literal.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  OLDEST_PILOT_NATS_VERSION,
  PINNED_NATS_VERSION,
  parseVersion,
  SUPPORT_POLICY,
} from "../../components/jetstream/serverLines";
import { binaryVersion, natsServerBinFor } from "../../scripts/local/natsServerBin";
import { rehearseRollingUpgrade } from "../../scripts/rehearsal/rollingUpgrade";
import { REPORT_FILE, type RollingUpgradeProgress } from "../../scripts/rehearsal/rollingUpgradeReport";

const minor = (v: string) => (parseVersion(v) as [number, number, number])[1];

/** The line between the oldest pilot line and the pinned one that bin/setup installs. */
const NEXT_LINE = "2.10.27";

describe("rolling upgrade across lines", () => {
  const from = natsServerBinFor(OLDEST_PILOT_NATS_VERSION);
  const to = natsServerBinFor(NEXT_LINE);
  const fromVersion = binaryVersion(from) as string;
  const toVersion = binaryVersion(to) as string;

  it("oldest pilot line to the next - every node reports the new version, 0 failed publishes, nothing lost; no down-roll across minors unless forced", {
    timeout: 240_000,
  }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "akira-rolling-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const events: RollingUpgradeProgress[] = [];
    const report = await rehearseRollingUpgrade({
      dir,
      fromNatsServer: from,
      toNatsServer: to,
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
      report.nodes.map((n) => [n.name, n.ok, n.versionBefore, n.versionAfter]),
      [
        ["nats-1", true, fromVersion, toVersion],
        ["nats-2", true, fromVersion, toVersion],
        ["nats-3", true, fromVersion, toVersion],
      ],
    );
    assert.equal(report.fromVersion, fromVersion);
    assert.equal(report.toVersion, toVersion);
    assert.deepEqual(report.rollback, {
      skipped: `${toVersion} → ${fromVersion} is a downgrade beyond one patch release: ${SUPPORT_POLICY}; add --force-downgrade to roll back down anyway`,
    });
    for (const n of report.nodes) assert.notEqual(n.streamLeaderAfter, "", `stream led after ${n.name}`);
    assert.equal(report.failedPublishes, 0);
    assert.ok(report.published >= 600);
    assert.equal(report.acked, report.published);
    assert.equal(report.lost, 0);
    assert.equal(report.duplicates, 0);
    assert.equal(report.stored, report.acked);
    assert.equal(report.ok, true);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, REPORT_FILE), "utf8")), report);
  });

  it("an upgrade that skips minor lines is refused before anything starts", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "akira-rolling-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pinned = natsServerBinFor(PINNED_NATS_VERSION);
    const pinnedVersion = binaryVersion(pinned) as string;
    await assert.rejects(rehearseRollingUpgrade({ dir, fromNatsServer: from, toNatsServer: pinned }), {
      message: `refusing the rolling upgrade: ${fromVersion} → ${pinnedVersion} skips ${minor(pinnedVersion) - minor(fromVersion) - 1} minor line(s): upgrade one minor line at a time, or back up the streams and restore them on the new line; add --force to roll it anyway`,
    });
  });
});
