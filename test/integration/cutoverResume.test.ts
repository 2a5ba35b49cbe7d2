import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { StorageType } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { createLocalCluster, randomSecrets } from "../../scripts/local/localNats";
import { binaryVersion, natsServerBin } from "../../scripts/local/natsServerBin";
import { rehearsalConfig } from "../../scripts/rehearsal/rehearsalConfig";
import { ProcedureContext } from "../../scripts/runbook/context";
import { CUTOVER, cutoverSteps } from "../../scripts/runbook/cutover";
import { LocalInfra, localEndpoint } from "../../scripts/runbook/localInfra";
import { openJournal, outputOf, runSteps } from "../../scripts/runbook/steps";
import { startPilot, tempDir } from "../helpers/testServers";

const unused = async () => {
  throw new Error("not part of this test");
};

test("cutover - interrupted after the restore, --resume copies what the pilot took since the backup", async (t) => {
  const dir = tempDir(t);
  const pilot = await startPilot(t);
  const ga = await createLocalCluster({ dir: join(dir, "ga"), secrets: randomSecrets() });
  t.after(() => ga.stop());
  const pnc = await connectNats(localEndpoint(pilot).client);
  t.after(() => pnc.close());
  const jsm = await pnc.jetstreamManager();
  await jsm.streams.add({ name: "AKIRA_CDR", subjects: ["akira.cdr.>"], storage: StorageType.File });
  const publish = async (from: number, to: number) => {
    for (let i = from; i <= to; i++)
      await pnc.jetstream().publish("akira.cdr.c1", `cdr ${i}`, { msgID: `cdr-${i}` });
  };
  await publish(1, 40);

  const hookCalls: string[] = [];
  // The staging stack records what the pilot really runs, as the cutover's preflight checks it.
  const config = rehearsalConfig(pilot.secrets, "127.0.0.1", 3, binaryVersion(natsServerBin()));
  const ctx = () =>
    new ProcedureContext(
      new LocalInfra({ pilot, ga, config: { staging: config.staging, ga: config.ga } }),
      {
        pausePublishers: async () => {
          hookCalls.push("pause");
        },
        resumePublishers: async () => {
          hookCalls.push("resume");
        },
        pointApplicationsAt: async (url) => {
          hookCalls.push(`point ${url}`);
        },
        missing: () => [],
      },
      { pilotStack: "staging", gaStack: "ga", stateDir: join(dir, "state"), timeoutMs: 60_000 },
      unused,
      unused,
    );
  // Up to resume-publishers: the replica change and the failover have tests of their own.
  const steps = cutoverSteps("run-1").slice(0, 10);
  const path = join(dir, "state", "cutover-ga.journal.json");

  const first = ctx();
  const r1 = await runSteps({
    procedure: "cutover",
    steps,
    ctx: first,
    journal: openJournal(path, "cutover", "ga", false),
    stopAfter: "restore-into-ga",
  });
  await first.close();
  assert.equal(r1.ok, true, r1.failure?.message);
  assert.deepEqual(hookCalls, []);
  // The applications went on writing to the pilot while the run was interrupted.
  await publish(41, 55);

  const second = ctx();
  t.after(() => second.close());
  const r2 = await runSteps({
    procedure: "cutover",
    steps,
    ctx: second,
    journal: openJournal(path, "cutover", "ga", true),
    resume: true,
  });
  assert.equal(r2.ok, true, r2.failure?.message);
  assert.deepEqual(
    r2.steps.map((s) => `${s.name}:${s.status}`),
    [
      "preflight:resumed",
      "backup-pilot:resumed",
      "provision-ga:resumed",
      "cluster-formed:resumed",
      "restore-into-ga:resumed",
      "pause-publishers:done",
      "copy-since-backup:done",
      "carry-consumer-positions:done",
      "point-apps-at-ga:done",
      "resume-publishers:done",
    ],
  );
  const copy = outputOf(r2, CUTOVER.copySinceBackup);
  assert.ok(copy !== undefined);
  assert.deepEqual(
    { copied: copy.copied, skipped: copy.skipped, pilotLastSeq: copy.pilotLastSeq },
    { copied: 15, skipped: 0, pilotLastSeq: 55 },
  );
  assert.deepEqual(hookCalls, ["pause", `point ${ga.servers}`, "resume"]);
  const gnc = await second.client("ga");
  const info = await (await gnc.jetstreamManager()).streams.info("AKIRA_CDR");
  assert.deepEqual({ messages: info.state.messages, last: info.state.last_seq }, { messages: 55, last: 55 });
});
