import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AckPolicy } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { startPilot, tempDir } from "../helpers/testServers";

function cli(args: readonly string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", "scripts/akira-nats.ts", ...args]);
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c) => (stdout += c));
    p.stderr.on("data", (c) => (stderr += c));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function jsonLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

describe("monitor - against a real server", () => {
  it("backlog - quiet while the consumer acks, alerts with exact lines and exit 1 once it stops", async (t) => {
    const pilot = await startPilot(t);
    const nc = await connectNats({
      servers: pilot.servers,
      user: pilot.user,
      password: pilot.secrets.clientPassword,
    });
    t.after(() => nc.close());
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "AKIRA_CDR", subjects: ["akira.cdr.>"] });
    await jsm.consumers.add("AKIRA_CDR", { durable_name: "billing", ack_policy: AckPolicy.Explicit });
    const js = nc.jetstream();
    const billing = await js.consumers.get("AKIRA_CDR", "billing");
    const publish = async (n: number) => {
      for (let i = 0; i < n; i++) await js.publish(`akira.cdr.c${i % 7}`, "{}");
    };
    // A working application: everything published is consumed and acknowledged.
    await publish(20);
    for await (const m of await billing.fetch({ max_messages: 20, expires: 2000 })) m.ack();

    const dir = tempDir(t);
    const monitor = (file: string, duration: string) =>
      cli([
        "monitor",
        "--stream",
        "AKIRA_CDR",
        "--monitor",
        pilot.nodes[0]?.monitorUrl as string,
        "--duration",
        duration,
        "--interval",
        "200ms",
        "--max-pending",
        "30",
        "--max-ack-pending",
        "50",
        "--json",
        file,
        "--exit-on-alert",
      ]);

    const healthy = await monitor(join(dir, "healthy.jsonl"), "1s");
    assert.equal(healthy.code, 0, healthy.stderr);
    assert.equal(healthy.stderr, "");
    assert.match(
      healthy.stdout,
      /^Monitor summary for AKIRA_CDR: no alerts in \d+ polls over [\d.]+s \(ended: duration\)$/m,
    );
    const quiet = jsonLines(join(dir, "healthy.jsonl"))[0] as {
      consumers: { name: string; numPending: number; numAckPending: number }[];
    };
    assert.deepEqual(
      quiet.consumers.map((c) => [c.name, c.numPending, c.numAckPending]),
      [["billing", 0, 0]],
    );

    // The application stops acknowledging: 60 delivered and never acked, 40 waiting behind them.
    await publish(100);
    let delivered = 0;
    for await (const _m of await billing.fetch({ max_messages: 60, expires: 2000 })) delivered++;
    assert.equal(delivered, 60);

    const file = join(dir, "stuck.jsonl");
    const stuck = await monitor(file, "30s");
    assert.equal(stuck.code, 1, stuck.stderr);
    assert.equal(
      stuck.stderr,
      [
        "ALERT backlog AKIRA_CDR/billing: 40 messages pending (limit 30)",
        "ALERT ack-pending AKIRA_CDR/billing: 60 messages delivered but not acknowledged (limit 50)",
        "",
      ].join("\n"),
    );
    assert.match(
      stuck.stdout,
      /^Monitor summary for AKIRA_CDR: 2 alert\(s\) in \d+ polls over [\d.]+s \(ended: alert\)$/m,
    );
    assert.match(
      stuck.stdout,
      /^ {2}consumer billing: max pending 40, max ack pending 60, max trend 0\/min$/m,
    );
    const lines = jsonLines(file);
    const summary = (lines.at(-1) as { summary: { ok: boolean; ended: string; alerts: { kind: string }[] } })
      .summary;
    assert.equal(summary.ok, false);
    assert.equal(summary.ended, "alert");
    assert.deepEqual(
      summary.alerts.map((a) => a.kind),
      ["backlog", "ack-pending"],
    );
  });
});
