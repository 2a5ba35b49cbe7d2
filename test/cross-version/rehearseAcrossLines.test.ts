/**
 * The cutover and the rollback across server lines: a pilot on the oldest pilot line, the GA
 * cluster on the pinned line, live CDR traffic throughout. The report's versions come from each
 * server's /varz and must equal what the binaries say.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { OLDEST_PILOT_NATS_VERSION, PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";
import { binaryVersion, natsServerBinFor } from "../../scripts/local/natsServerBin";
import { runCli } from "../helpers/runCli";

test("rehearse across lines - oldest pilot line to a pinned-line cluster and back, nothing lost", {
  timeout: 240_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "akira-rehearse-x-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pilotBin = natsServerBinFor(OLDEST_PILOT_NATS_VERSION);
  const gaBin = natsServerBinFor(PINNED_NATS_VERSION);
  const r = await runCli([
    "rehearse",
    "--report",
    dir,
    "--ports",
    "random",
    "--pilot-nats-server",
    pilotBin,
    "--ga-nats-server",
    gaBin,
  ]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
  assert.equal(report.pilotVersion, binaryVersion(pilotBin));
  assert.equal(report.gaVersion, binaryVersion(gaBin));
  assert.equal(report.lost, 0);
  assert.equal(report.duplicates, 0);
  assert.equal(report.ok, true);
  // The change of the pilot's server the staging pin implies is said and accepted explicitly.
  assert.ok(
    r.stdout.includes(
      `cutover:       warning: the first \`pulumi up --stack staging\` would change the pilot's nats-server from ${report.pilotVersion} to ${PINNED_NATS_VERSION} (accepted: `,
    ),
    r.stdout,
  );
});
