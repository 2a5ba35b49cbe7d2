import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectNats } from "../../components/jetstream/connection";
import { freePort, type LocalDeployment } from "../../scripts/local/localNats";
import { runCli } from "../helpers/runCli";
import { startPilot, tempDir } from "../helpers/testServers";

describe("akira-nats stream/server CLI - exit codes and one-line errors (pilot)", () => {
  let pilot: LocalDeployment;
  let env: Record<string, string>;
  const hooks: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => hooks.push(fn) };

  before(async () => {
    pilot = await startPilot(t);
    env = { NATS_URL: pilot.servers, NATS_USER: pilot.user, NATS_PASSWORD: pilot.secrets.clientPassword };
    const nc = await connectNats({
      servers: pilot.servers,
      user: pilot.user,
      password: pilot.secrets.clientPassword,
    });
    const js = nc.jetstream();
    await (await nc.jetstreamManager()).streams.add({ name: "CLI_CDR", subjects: ["cli.cdr.>"] });
    for (let i = 1; i <= 50; i++) await js.publish(`cli.cdr.${i % 3}`, new TextEncoder().encode(`cdr ${i}`));
    await nc.close();
  });
  after(async () => {
    for (const h of hooks.reverse()) await h();
  });

  it("backup, delete, restore - exit 0, result lines; the restore verifies against backup.json", async () => {
    const dir = join(tempDir(t), "cdr-backup");
    const backup = await runCli(["stream", "backup", "CLI_CDR", dir, "--json"], env);
    assert.equal(backup.code, 0, backup.stderr);
    const result = JSON.parse(backup.stdout);
    assert.deepEqual(
      [result.stream, result.messages, result.firstSeq, result.lastSeq],
      ["CLI_CDR", 50, 1, 50],
    );

    const nc = await connectNats({
      servers: pilot.servers,
      user: pilot.user,
      password: pilot.secrets.clientPassword,
    });
    await (await nc.jetstreamManager()).streams.delete("CLI_CDR");
    await nc.close();

    const restore = await runCli(["stream", "restore", dir], env);
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(
      restore.stdout,
      new RegExp(
        `^Restored stream CLI_CDR \\(R1\\) from ${dir}: 50 messages, sequences 1\\.\\.50, \\d+\\.\\d KiB, matching backup\\.json, in \\d+\\.\\ds; each server's storage was not checked first \\(pass --system-password or NATS_SYSTEM_PASSWORD\\)\\n$`,
      ),
    );
    const again = await runCli(["stream", "restore", dir], env);
    // Run again over the stream it restored (as after a run that gave up waiting for replicas):
    // picked up and checked, not refused.
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      new RegExp(
        `^Restored stream CLI_CDR \\(R1\\) from ${dir}: 50 messages, sequences 1\\.\\.50, \\d+\\.\\d KiB, matching backup\\.json, restored by an earlier run and checked now, in \\d+\\.\\ds\\n$`,
      ),
    );
    // Once someone published into it, it is a live stream: refused, untouched.
    const pub = await connectNats({
      servers: pilot.servers,
      user: pilot.user,
      password: pilot.secrets.clientPassword,
    });
    await pub.jetstream().publish("cli.cdr.late", new TextEncoder().encode("late"));
    await pub.close();
    const refused = await runCli(["stream", "restore", dir], env);
    assert.deepEqual(
      [refused.code, refused.stdout, refused.stderr],
      [
        1,
        "",
        "akira-nats: stream CLI_CDR already exists: it was left untouched; to replace it, back it up (akira-nats stream backup CLI_CDR <new-dir>), delete it, then restore again\n",
      ],
    );
  });

  it("missing stream, wrong password, unreachable, bad flag - exit 1, one line, nothing written", async () => {
    const dir = join(tempDir(t), "never");
    const port = await freePort("127.0.0.1");
    const [missing, password, unreachable, badFlag] = await Promise.all([
      runCli(["stream", "backup", "NOPE", dir], env),
      runCli(["stream", "info", "CLI_CDR"], { ...env, NATS_PASSWORD: "not-the-password" }),
      runCli(["stream", "ls", "-s", `nats://127.0.0.1:${port}`, "--timeout", "1000"], env),
      runCli(["stream", "restore", dir, "--replicas", "three"], env),
    ]);
    assert.deepEqual(
      [missing.code, missing.stderr],
      [
        1,
        "akira-nats: stream NOPE not found: check the name with `akira-nats stream ls`, or restore it from a backup with `akira-nats stream restore <dir>`\n",
      ],
    );
    assert.equal(existsSync(dir), false);
    assert.deepEqual(
      [password.code, password.stderr],
      [
        1,
        `akira-nats: NATS at ${pilot.servers} refused user "akira": check --user/--password (or NATS_USER/NATS_PASSWORD; for the stacks: pulumi config set --secret akira-nats:clientPassword …)\n`,
      ],
    );
    assert.ok(!password.stderr.includes("not-the-password"));
    assert.deepEqual(
      [unreachable.code, unreachable.stderr],
      [
        1,
        `akira-nats: cannot reach NATS at nats://127.0.0.1:${port} (CONNECTION_REFUSED, gave up after 1000 ms): check that the servers run and that the address, port and firewall are right (for GA from outside the private network, use the admin tunnel)\n`,
      ],
    );
    assert.deepEqual(
      [badFlag.code, badFlag.stderr],
      [1, `akira-nats: --replicas must be an integer from 1 to 5, got "three"\n`],
    );
  });

  it("server check stream - OK 0, bad flag and unreachable UNKNOWN 3, missing stream CRITICAL 2", async () => {
    const port = await freePort("127.0.0.1");
    const [ok, badFlag, unreachable, missing] = await Promise.all([
      runCli(["server", "check", "stream", "--stream", "CLI_CDR"], env),
      runCli(["server", "check", "stream", "--stream", "CLI_CDR", "--seen-critical", "soon"], env),
      runCli(
        [
          "server",
          "check",
          "stream",
          "--stream",
          "CLI_CDR",
          "-s",
          `nats://127.0.0.1:${port}`,
          "--timeout",
          "500",
        ],
        env,
      ),
      runCli(["server", "check", "stream", "--stream", "GONE"], env),
    ]);
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, "OK CLI_CDR OK:1 peers\n", ""]);
    assert.deepEqual(
      [badFlag.code, badFlag.stdout],
      [3, 'UNKNOWN CLI_CDR --seen-critical must be a duration such as 500ms, 30s, 5m or 1h30m, got "soon"\n'],
    );
    assert.equal(unreachable.code, 3);
    assert.match(
      unreachable.stdout,
      new RegExp(`^UNKNOWN CLI_CDR cannot reach NATS at nats://127\\.0\\.0\\.1:${port} `),
    );
    assert.deepEqual([missing.code, missing.stdout], [2, "CRITICAL GONE Crit:stream not found\n"]);
  });
});
