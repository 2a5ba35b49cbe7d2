/**
 * `rehearse --keep-running`: the CLI exits 0 after the report and the kept pilot lives on, detached
 * from it. How a process is kept does not depend on the server line: run once, on the pinned line.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { connectNats } from "../../components/jetstream/connection";
import { streamInfoRaw } from "../../components/jetstream/jsApiRequest";
import { runCli } from "../helpers/runCli";
import { tempDir } from "../helpers/testServers";

test("rehearse --keep-running - exits 0 after the report, the pilot detached, alive and reachable", {
  timeout: 240_000,
}, async (t) => {
  const dir = tempDir(t);
  const run = await runCli([
    "rehearse",
    "--keep-running",
    "--messages",
    "200",
    "--rate",
    "50",
    "--ports",
    "random",
    "--report",
    dir,
    "--json",
  ]);
  const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
  const pids: number[] = report.pids ?? [];
  t.after(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  });
  assert.deepEqual(report.failures, [], run.stdout.split("\n").slice(-30).join("\n"));
  assert.equal(run.code, 0, run.stderr);
  assert.equal(report.ok, true);
  assert.equal(pids.length, 1);
  // The CLI has exited; the kept pilot runs on, in a process group of its own.
  process.kill(pids[0] as number, 0);
  const nc = await connectNats({ servers: report.servers, user: report.user, password: report.password });
  assert.equal((await streamInfoRaw(nc, report.stream)).state.messages, report.stored);
  await nc.close();
});
