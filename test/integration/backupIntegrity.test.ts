/**
 * Nothing reported good that isn't: backups that cannot mix or be silently damaged, consumers
 * carried across, restores refused before upload when they cannot work, and a CLI that stops
 * cleanly on signals and always exits. Every case runs against a real nats-server.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AckPolicy, type NatsConnection } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { AkiraNatsError } from "../../components/jetstream/errors";
import { streamInfoRaw } from "../../components/jetstream/jsApiRequest";
import { quarantineOf } from "../../components/jetstream/quarantine";
import { restoreStream } from "../../components/jetstream/restore";
import { backupStream } from "../../components/jetstream/snapshot";
import { freePort, type LocalDeployment } from "../../scripts/local/localNats";
import { runCli } from "../helpers/runCli";
import { startPilot, tempDir } from "../helpers/testServers";

const ROOT = join(__dirname, "..", "..");

/** Publishes `count` messages of `size` bytes (bounded; flushed every 1000) and waits for them. */
async function fill(nc: NatsConnection, stream: string, subject: string, count: number, size = 100) {
  const body = new Uint8Array(size).fill(65);
  for (let i = 1; i <= count; i++) {
    nc.publish(`${subject}.${i % 5}`, body);
    if (i % 1000 === 0) await nc.flush();
  }
  await nc.flush();
  const deadline = Date.now() + 60_000;
  while ((await streamInfoRaw(nc, stream)).state.messages < count) {
    assert.ok(Date.now() < deadline, `${stream} did not receive ${count} messages`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("backups - integrity (pilot)", () => {
  let pilot: LocalDeployment;
  let nc: NatsConnection;
  const hooks: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => hooks.push(fn) };

  before(async () => {
    pilot = await startPilot(t);
    nc = await connectNats({
      servers: pilot.servers,
      user: pilot.user,
      password: pilot.secrets.clientPassword,
    });
    t.after(() => nc.close());
  });
  after(async () => {
    for (const h of hooks.reverse()) await h();
  });

  it("two backups (two servers) into one new directory at once: exactly one gets it, whole; the other says so", async () => {
    // As the issue found it: two servers, each with its own RACE stream, backed up into one directory.
    const other = await startPilot(t);
    const nc2 = await connectNats({
      servers: other.servers,
      user: other.user,
      password: other.secrets.clientPassword,
    });
    t.after(() => nc2.close());
    for (const [c, count] of [
      [nc, 20_000],
      [nc2, 15_000],
    ] as const) {
      await (await c.jetstreamManager()).streams.add({ name: "RACE", subjects: ["race.>"] });
      await fill(c, "RACE", "race", count);
    }
    const dir = join(tempDir(t), "shared");
    const results = await Promise.allSettled([backupStream(nc, "RACE", dir), backupStream(nc2, "RACE", dir)]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    // The loser is refused at its final rename, or, when the winner finished before the loser
    // looked, at its first check: either way nothing of it reaches the directory.
    const reason = lost[0] === undefined ? "" : (lost[0].reason as Error).message;
    assert.ok(
      [
        `backup directory ${dir} was filled by another backup while this one ran: this backup was discarded and the other one left untouched; back up into a new directory`,
        `backup directory ${dir} is not empty (2 entries): nothing was written; choose a new or empty directory`,
      ].includes(reason),
      reason,
    );
    // Only the winner's two files, and no working directory left beside them.
    assert.deepEqual(readdirSync(dir).sort(), ["backup.json", "stream.tar.s2"]);
    assert.deepEqual(readdirSync(join(dir, "..")), ["shared"]);
    // The winner's backup is whole: it restores with exactly its own messages.
    const winner = results[0]?.status === "fulfilled" ? nc : nc2;
    const expected = winner === nc ? 20_000 : 15_000;
    await (await winner.jetstreamManager()).streams.delete("RACE");
    const restored = await restoreStream(winner, dir);
    assert.equal(restored.messages, expected);
  });

  it("a flipped byte in stream.tar.s2, an edited backup.json, a truncated file: refused before upload", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "BOUND", subjects: ["bound.>"] });
    await fill(nc, "BOUND", "bound", 5_000);
    const dir = join(tempDir(t), "bound");
    await backupStream(nc, "BOUND", dir);
    await jsm.streams.delete("BOUND");
    const data = join(dir, "stream.tar.s2");
    const meta = join(dir, "backup.json");
    const original = readFileSync(data);
    const originalMeta = readFileSync(meta, "utf8");

    const flipped = Buffer.from(original);
    flipped[Math.floor(flipped.length / 2)] ^= 0x01;
    writeFileSync(data, flipped);
    await assert.rejects(restoreStream(nc, dir), {
      message: `${data} does not match the digest backup.json recorded (same size, different bytes): the backup of BOUND is damaged; nothing was sent. Restore another copy of the backup`,
    });

    writeFileSync(data, original.subarray(0, original.length - 10));
    await assert.rejects(restoreStream(nc, dir), {
      message: `${data} does not match the digest backup.json recorded (${original.length - 10} bytes, recorded ${original.length}): the backup of BOUND is damaged; nothing was sent. Restore another copy of the backup`,
    });

    writeFileSync(data, original);
    const edited = JSON.parse(originalMeta);
    edited.config.subjects = ["elsewhere.>"];
    writeFileSync(meta, JSON.stringify(edited, null, 2));
    await assert.rejects(restoreStream(nc, dir), {
      message: `${meta} was changed after the backup of BOUND: its config or state no longer matches the digest recorded with it; nothing was sent. Restore an unedited copy of the backup`,
    });
    // Nothing reached the server: no stream, and the untouched backup still restores.
    assert.equal(
      (await jsm.streams.list().next()).some((s) => s.config.name === "BOUND"),
      false,
    );
    writeFileSync(meta, originalMeta);
    assert.equal((await restoreStream(nc, dir)).messages, 5_000);
  });

  it("a data file that is a symbolic link (to /dev/zero) is refused, nothing read or sent", async () => {
    const dir = join(tempDir(t), "link");
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "LINKED", subjects: ["linked.>"] });
    await fill(nc, "LINKED", "linked", 100);
    await backupStream(nc, "LINKED", dir);
    await jsm.streams.delete("LINKED");
    rmSync(join(dir, "stream.tar.s2"));
    symlinkSync("/dev/zero", join(dir, "stream.tar.s2"));
    await assert.rejects(restoreStream(nc, dir), {
      message: `${join(dir, "stream.tar.s2")} is not a regular file (a symbolic link): a backup's data is a plain file; nothing was sent`,
    });
  });

  it("a durable consumer (1,000 of 5,000 acked) comes back with its position; --no-consumers leaves it out", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "BILLED", subjects: ["billed.>"] });
    await fill(nc, "BILLED", "billed", 5_000);
    await jsm.consumers.add("BILLED", { durable_name: "billing", ack_policy: AckPolicy.Explicit });
    const consumer = await nc.jetstream().consumers.get("BILLED", "billing");
    const batch = await consumer.fetch({ max_messages: 1000, expires: 5000 });
    for await (const m of batch) m.ack();
    await nc.flush();
    const deadline = Date.now() + 10_000;
    while ((await jsm.consumers.info("BILLED", "billing")).ack_floor.stream_seq < 1000) {
      assert.ok(Date.now() < deadline, "the acks did not land");
      await new Promise((r) => setTimeout(r, 50));
    }

    const withConsumers = join(tempDir(t), "with");
    const without = join(tempDir(t), "without");
    const r1 = await backupStream(nc, "BILLED", withConsumers);
    const r2 = await backupStream(nc, "BILLED", without, { includeConsumers: false });
    assert.deepEqual([r1.consumers, r1.consumersIncluded, r2.consumersIncluded], [1, true, false]);

    // backup.json records the position the snapshot holds (or an earlier one).
    const recorded = JSON.parse(readFileSync(join(withConsumers, "backup.json"), "utf8")).akira_nats;
    assert.deepEqual(recorded.consumer_positions, [{ name: "billing", ack_floor: 1000 }]);
    assert.equal(
      JSON.parse(readFileSync(join(without, "backup.json"), "utf8")).akira_nats.consumer_positions,
      undefined,
    );

    await jsm.streams.delete("BILLED");
    const restored = await restoreStream(nc, withConsumers);
    assert.equal(restored.consumersChecked, 1);
    const back = await jsm.consumers.info("BILLED", "billing");
    assert.deepEqual(
      [back.ack_floor.stream_seq, back.num_pending + back.num_ack_pending, back.config.durable_name],
      [1000, 4000, "billing"],
    );

    // A consumer that comes back behind what backup.json recorded fails the check: here the
    // record says 1,200 (positions are not in the digests: a backup taken under acks may record
    // less than its snapshot holds, never more).
    const ahead = join(tempDir(t), "ahead");
    cpSync(withConsumers, ahead, { recursive: true });
    const meta = JSON.parse(readFileSync(join(ahead, "backup.json"), "utf8"));
    meta.akira_nats.consumer_positions = [{ name: "billing", ack_floor: 1200 }];
    writeFileSync(join(ahead, "backup.json"), JSON.stringify(meta));
    await jsm.streams.delete("BILLED");
    const err = await restoreStream(nc, ahead).catch((e) => e);
    assert.equal(err.code, "restore-mismatch");
    assert.equal(
      err.message.split("; the stream was quarantined")[0],
      "stream BILLED: durable consumer billing is at ack floor 1000, the backup recorded 1200; it would deliver 200 processed messages again",
    );
    assert.notEqual(quarantineOf((await streamInfoRaw(nc, "BILLED")).config), undefined);

    await jsm.streams.delete("BILLED");
    await restoreStream(nc, without);
    const names: string[] = [];
    for await (const c of jsm.consumers.list("BILLED")) names.push(c.name);
    assert.deepEqual(names, []);
  });

  it("a restore run again over the stream it restored: picks it up (waits, verifies) instead of refusing", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "AGAIN", subjects: ["again.>"] });
    await fill(nc, "AGAIN", "again", 1_000);
    const dir = join(tempDir(t), "again");
    await backupStream(nc, "AGAIN", dir);
    await jsm.streams.delete("AGAIN");
    await restoreStream(nc, dir);
    // As after a first run that gave up waiting for its replicas: the stream holds the backup.
    const again = await restoreStream(nc, dir);
    assert.deepEqual([again.messages, again.resumed, again.note], [1_000, true, undefined]);
    // Once anything was published into it, it is someone's stream: refused as before.
    nc.publish("again.late", new Uint8Array(1));
    await nc.flush();
    while ((await streamInfoRaw(nc, "AGAIN")).state.messages < 1_001)
      await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(restoreStream(nc, dir), { code: "stream-exists" });
  });

  it("--replicas 3 on a standalone server: refused before upload, and nothing is left to resurface", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "SOLO", subjects: ["solo.>"] });
    await fill(nc, "SOLO", "solo", 500);
    const dir = join(tempDir(t), "solo");
    await backupStream(nc, "SOLO", dir);
    await jsm.streams.delete("SOLO");
    const err = await restoreStream(nc, dir, { replicas: 3 }).catch((e) => e);
    assert.ok(err instanceof AkiraNatsError);
    assert.equal(
      err.message,
      `cannot restore SOLO with 3 replicas on ${nc.getServer()}: it is a standalone server, which holds one copy; nothing was sent. Restore with --replicas 1, or into a cluster`,
    );
    // A new, empty stream of that name starts empty: no unpacked data was left on the server.
    await jsm.streams.add({ name: "SOLO", subjects: ["solo.>"] });
    assert.equal((await streamInfoRaw(nc, "SOLO")).state.messages, 0);
  });
  it("a restore larger than the server's JetStream storage: refused before upload, by the library and the CLI", async () => {
    const small = await startPilot(t, { maxFileStoreBytes: 4 * 1024 ** 2 });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "BIG", subjects: ["big.>"] });
    await fill(nc, "BIG", "big", 6000, 1024);
    const dir = join(tempDir(t), "big");
    const backup = await backupStream(nc, "BIG", dir);
    const target = { servers: small.servers, user: small.user, password: small.secrets.clientPassword };
    const sys = await connectNats({
      ...target,
      user: small.systemUser,
      password: small.secrets.systemPassword,
    });
    const smallNc = await connectNats(target);
    t.after(() => sys.close());
    t.after(() => smallNc.close());
    const info = (await sys.request("$SYS.REQ.SERVER.PING.JSZ", new Uint8Array())).json<{
      server: { name: string };
      data: { config: { max_storage: number }; storage: number };
    }>();
    const mib = (b: number) => `${(b / 1024 ** 2).toFixed(1)} MiB`;
    const expected = `restoring BIG needs ${mib(backup.bytes)} on each of 1 server(s), but only 0 have that much JetStream storage left (${info.server.name} ${mib(info.data.config.max_storage - info.data.storage)} free of ${mib(info.data.config.max_storage)}); nothing was sent. On GA the limit follows serverType (a larger type), on the pilot pilotMaxFileStoreGb; or free space, then restore again`;
    await assert.rejects(restoreStream(smallNc, dir, { systemConnection: sys }), {
      code: "insufficient-storage",
      message: expected,
    });
    const r = await runCli(["stream", "restore", dir], {
      NATS_URL: small.servers,
      NATS_USER: small.user,
      NATS_PASSWORD: small.secrets.clientPassword,
      NATS_SYSTEM_PASSWORD: small.secrets.systemPassword,
    });
    assert.deepEqual([r.code, r.stderr], [1, `akira-nats: ${expected}\n`]);
    // Nothing was sent: the stream does not exist there.
    await assert.rejects(streamInfoRaw(smallNc, "BIG"), { code: "stream-not-found" });
  });
});

describe("the CLI - signals, deadlines, one-line and JSON errors", () => {
  let pilot: LocalDeployment;
  let env: Record<string, string>;
  let silent: Server;
  let silentUrl: string;
  const hooks: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => hooks.push(fn) };

  before(async () => {
    pilot = await startPilot(t);
    env = { NATS_URL: pilot.servers, NATS_USER: pilot.user, NATS_PASSWORD: pilot.secrets.clientPassword };
    // Accepts TCP and never speaks: neither INFO nor an error.
    const port = await freePort("127.0.0.1");
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    silentUrl = `nats://127.0.0.1:${port}`;
    t.after(() => new Promise((resolve) => silent.close(resolve)));
  });
  after(async () => {
    for (const h of hooks.reverse()) await h();
  });

  it("SIGTERM to the launcher mid-backup: the CLI stops, removes the partial files, exits 143", async () => {
    const nc = await connectNats({
      servers: pilot.servers,
      user: pilot.user,
      password: pilot.secrets.clientPassword,
    });
    await (await nc.jetstreamManager()).streams.add({ name: "BIG", subjects: ["big.>"] });
    await fill(nc, "BIG", "big", 60_000, 1024);
    await nc.close();
    const parent = tempDir(t);
    const dir = join(parent, "big");
    const child = spawn(
      process.execPath,
      [join(ROOT, "bin", "akira-nats.js"), "stream", "backup", "BIG", dir],
      {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    // Signal as soon as the backup's working directory exists: the backup is running.
    const deadline = Date.now() + 30_000;
    while (!readdirSync(parent).some((e) => e.startsWith(".big.partial-"))) {
      assert.ok(Date.now() < deadline, "the backup never started");
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill("SIGTERM");
    assert.equal(await exited, 143);
    assert.equal(
      stderr.trim().split("\n").at(-1),
      "akira-nats: backup of BIG interrupted: the partial backup was removed and nothing was written to the target",
    );
    assert.deepEqual(readdirSync(parent), []);
    assert.equal(existsSync(dir), false);
  });

  it("server check stream against a server that never speaks: UNKNOWN, exit 3, within its deadline", async () => {
    const started = Date.now();
    const r = await runCli(
      [
        "server",
        "check",
        "stream",
        "--stream",
        "AKIRA_CDR",
        "--deadline",
        "2s",
        "--timeout",
        "60s",
        "-s",
        silentUrl,
      ],
      {},
    );
    assert.deepEqual(
      [r.code, r.stdout],
      [3, "UNKNOWN AKIRA_CDR check did not finish within 2s (--deadline)\n"],
    );
    assert.ok(Date.now() - started < 15_000, "the check outlived its deadline");
  });

  it("stream ls against a server that never speaks: one error line, and the process exits", async () => {
    const r = await runCli(["stream", "ls", "-s", silentUrl, "--timeout", "1s"], {});
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.split("\n").length, 2, r.stderr);
    assert.match(r.stderr, /^akira-nats: /);
  });

  it("--json: an error is one JSON object with its code", async () => {
    const r = await runCli(["stream", "info", "NOPE", "--json"], env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "");
    const line = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(line), ["error"]);
    assert.equal(typeof line.error.message, "string");
    assert.match(line.error.message, /NOPE/);
    assert.equal(r.stdout.trim().split("\n").length, 1);
  });

  it("server list as a user outside the system account, monitor --storage-percent 500: each named", async () => {
    const list = await runCli(["server", "list"], env);
    assert.deepEqual(
      [list.code, list.stderr],
      [
        1,
        "akira-nats: no server answered $SYS.REQ.SERVER.PING: the user must belong to the system account (--user system, password akira-nats:systemPassword)\n",
      ],
    );
    const monitor = await runCli(
      ["monitor", "--stream", "AKIRA_CDR", "--storage-percent", "500", "--duration", "1s"],
      env,
    );
    assert.deepEqual(
      [monitor.code, monitor.stderr],
      [1, 'akira-nats: --storage-percent must be a percentage from 0 to 100, got "500"\n'],
    );
  });

  it("bad input: a timeout beyond Node's timers, a stream name with a space - named and refused", async () => {
    const timeout = await runCli(["stream", "ls", "--timeout", "99999999999999999999"], env);
    assert.deepEqual(
      [timeout.code, timeout.stderr],
      [
        1,
        'akira-nats: --timeout must be a positive duration (5s, 500ms, 2m) or milliseconds, at most 2147483647 ms (24.8 days), got "99999999999999999999"\n',
      ],
    );
    const info = await runCli(["stream", "info", "AKIRA CDR"], env);
    assert.deepEqual(
      [info.code, info.stderr],
      [
        1,
        `akira-nats: invalid stream name "AKIRA CDR": a stream name may not be empty or contain '.', '*', '>', '/', '\\' or whitespace\n`,
      ],
    );
    const check = await runCli(["server", "check", "stream", "--stream", "AKIRA CDR"], env);
    assert.deepEqual(
      [check.code, check.stdout],
      [
        3,
        `UNKNOWN AKIRA CDR invalid stream name "AKIRA CDR": a stream name may not be empty or contain '.', '*', '>', '/', '\\' or whitespace\n`,
      ],
    );
  });
});

describe("stream verify - a live stream against a backup, at any later time (pilot)", () => {
  let pilot: LocalDeployment;
  let env: Record<string, string>;
  const hooks: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => hooks.push(fn) };

  before(async () => {
    pilot = await startPilot(t);
    env = { NATS_URL: pilot.servers, NATS_USER: pilot.user, NATS_PASSWORD: pilot.secrets.clientPassword };
  });
  after(async () => {
    for (const h of hooks.reverse()) await h();
  });

  it("holds it; then more published; then one message of the backup gone - each said exactly", async () => {
    const nc = await connectNats({
      servers: pilot.servers,
      user: pilot.user,
      password: pilot.secrets.clientPassword,
    });
    t.after(() => nc.close());
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "VERIFIED", subjects: ["verified.>"] });
    await fill(nc, "VERIFIED", "verified", 3_000);
    const dir = join(tempDir(t), "verified");
    await backupStream(nc, "VERIFIED", dir);

    const same = await runCli(["stream", "verify", dir], env);
    assert.deepEqual(
      [same.code, same.stdout],
      [
        0,
        `Stream VERIFIED holds backup ${dir}: 3,000 messages read back, 0 of the backup's 0 consumer(s) present\n`,
      ],
    );

    for (let i = 0; i < 5; i++) nc.publish("verified.late", new Uint8Array(10));
    await nc.flush();
    const deadline = Date.now() + 10_000;
    while ((await streamInfoRaw(nc, "VERIFIED")).state.messages < 3_005) {
      assert.ok(Date.now() < deadline);
      await new Promise((r) => setTimeout(r, 20));
    }
    const grown = await runCli(["stream", "verify", dir, "--json"], env);
    assert.equal(grown.code, 0, grown.stdout);
    assert.deepEqual(JSON.parse(grown.stdout), {
      stream: "VERIFIED",
      readable: 3_000,
      publishedSince: 5,
      digestsChecked: true,
      consumers: { backup: 0, live: 0, positionsChecked: 0 },
    });

    assert.equal(await jsm.streams.deleteMessage("VERIFIED", 1_500), true);
    const lost = await runCli(["stream", "verify", dir], env);
    assert.deepEqual(
      [lost.code, lost.stderr],
      [
        1,
        "akira-nats: stream VERIFIED: 2999 of the backup's 3000 messages could be read back (sequences 1..3000)\n",
      ],
    );
  });
});
