import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { inspect } from "node:util";
import { headers, type NatsConnection } from "nats";
import { metaDigest } from "../../components/jetstream/backupDigests";
import { connectNats } from "../../components/jetstream/connection";
import { AkiraNatsError } from "../../components/jetstream/errors";
import { streamInfoRaw } from "../../components/jetstream/jsApiRequest";
import { streamCopies } from "../../components/jetstream/peers";
import { quarantineOf, releaseStream } from "../../components/jetstream/quarantine";
import { restoreStream } from "../../components/jetstream/restore";
import { serverLine } from "../../components/jetstream/serverLines";
import { backupStream } from "../../components/jetstream/snapshot";
import { checkStream } from "../../components/jetstream/streamCheck";
import type { LocalDeployment } from "../../scripts/local/localNats";
import { startCluster, startPilot, tempDir } from "../helpers/testServers";

const MESSAGES = 100_000;
const DELETED = [2, 500, 50_000, 77_777] as const;

/**
 * Core-publishes `count` messages with headers over a connection to the stream's leader (no ack
 * round trips: fast), then waits until the stream holds them all.
 */
async function fill(
  cluster: LocalDeployment,
  nc: NatsConnection,
  stream: string,
  count: number,
): Promise<void> {
  const info = await streamInfoRaw(nc, stream);
  const base = info.state.messages;
  const leader = cluster.nodes.find((n) => n.spec.name === info.cluster?.leader) ?? cluster.nodes[0];
  const pub = await connectNats({
    servers: leader?.url ?? cluster.servers,
    user: cluster.user,
    password: cluster.secrets.clientPassword,
  });
  const enc = new TextEncoder();
  try {
    for (let i = 1; i <= count; i++) {
      const h = headers();
      h.set("Cdr-Id", `cdr-${i}`);
      h.set("Cdr-Trunk", `trunk-${i % 7}`);
      const body = enc.encode(JSON.stringify({ id: `cdr-${i}`, caller: `+4930${i}`, seconds: i % 3600 }));
      pub.publish(`${stream.toLowerCase()}.cdr.${i % 10}`, body, { headers: h });
      if (i % 5000 === 0) await pub.flush();
    }
    await pub.flush();
  } finally {
    await pub.close();
  }
  const deadline = Date.now() + 60_000;
  while ((await streamInfoRaw(nc, stream)).state.messages < base + count) {
    assert.ok(Date.now() < deadline, `${stream} did not receive ${count} messages`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sequence, subject, sorted headers and payload of every message, hashed in order. */
async function digest(nc: NatsConnection, stream: string): Promise<{ count: number; sha256: string }> {
  const info = await streamInfoRaw(nc, stream);
  const consumer = await nc.jetstream().consumers.get(stream);
  const messages = await consumer.consume({ max_messages: 5000 });
  const hash = createHash("sha256");
  let count = 0;
  for await (const m of messages) {
    const hdrs = m.headers ? [...m.headers.keys()].sort().map((k) => `${k}:${m.headers?.get(k)}`) : [];
    hash.update(`${m.seq}\n${m.subject}\n${hdrs.join("|")}\n`);
    hash.update(m.data);
    count++;
    if (m.seq >= info.state.last_seq) break;
  }
  await messages.close();
  return { count, sha256: hash.digest("hex") };
}

describe("stream backup and restore - 3-node cluster", () => {
  let cluster: LocalDeployment;
  let nc: NatsConnection;
  let sys: NatsConnection;
  const hooks: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => hooks.push(fn) };

  before(async () => {
    cluster = await startCluster(t);
    nc = await connectNats({
      servers: cluster.servers,
      user: cluster.user,
      password: cluster.secrets.clientPassword,
    });
    sys = await connectNats({
      servers: cluster.servers,
      user: cluster.systemUser,
      password: cluster.secrets.systemPassword,
    });
  });
  after(async () => {
    await nc?.close();
    await sys?.close();
    for (const h of hooks.reverse()) await h();
  });

  it("round trip - 100k messages with headers and interior deletes come back identical, restored as R3", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "CDR_RT", subjects: ["cdr_rt.>"], num_replicas: 1 });
    await fill(cluster, nc, "CDR_RT", MESSAGES);
    for (const seq of DELETED) assert.equal(await jsm.streams.deleteMessage("CDR_RT", seq, false), true);
    const before = await streamInfoRaw(nc, "CDR_RT");
    const beforeDigest = await digest(nc, "CDR_RT");
    assert.equal(beforeDigest.count, MESSAGES - DELETED.length);

    const dir = join(tempDir(t), "backup");
    const progress: number[] = [];
    const backup = await backupStream(nc, "CDR_RT", dir, {
      onProgress: (p) => progress.push(p.bytesReceived),
    });
    assert.deepEqual(
      { messages: backup.messages, firstSeq: backup.firstSeq, lastSeq: backup.lastSeq, bytes: backup.bytes },
      { messages: MESSAGES - DELETED.length, firstSeq: 1, lastSeq: MESSAGES, bytes: before.state.bytes },
    );
    assert.deepEqual(readdirSync(dir).sort(), ["backup.json", "stream.tar.s2"]);
    const meta = JSON.parse(readFileSync(join(dir, "backup.json"), "utf8"));
    assert.deepEqual(Object.keys(meta), ["config", "state", "server_version", "akira_nats"]);
    // The digests bind the data file and the config and state backup.json describes.
    const data = readFileSync(join(dir, "stream.tar.s2"));
    assert.deepEqual(meta.akira_nats, {
      data_sha256: createHash("sha256").update(data).digest("hex"),
      data_bytes: data.length,
      meta_sha256: metaDigest(meta.config, meta.state),
      consumers_included: true,
      consumer_positions: [],
    });
    assert.deepEqual(backup.digests, meta.akira_nats);
    assert.equal(meta.server_version, nc.info?.version);
    assert.equal(meta.config.name, "CDR_RT");
    assert.equal(meta.state.num_deleted, DELETED.length);
    assert.equal(readFileSync(join(dir, "stream.tar.s2")).length, backup.dataBytes);
    assert.equal(progress.at(-1), backup.dataBytes);

    await jsm.streams.delete("CDR_RT");
    const restored = await restoreStream(nc, dir, { replicas: 3, systemConnection: sys });
    assert.deepEqual(
      {
        replicas: restored.replicas,
        messages: restored.messages,
        firstSeq: restored.firstSeq,
        lastSeq: restored.lastSeq,
      },
      { replicas: 3, messages: MESSAGES - DELETED.length, firstSeq: 1, lastSeq: MESSAGES },
    );
    const after = await streamInfoRaw(nc, "CDR_RT");
    assert.equal(after.config.num_replicas, 3);
    assert.equal(after.state.num_deleted, DELETED.length);
    assert.equal(after.state.bytes, before.state.bytes);
    assert.ok(after.cluster?.leader);
    // Every server holds the whole stream, not only the leader's word for it.
    const copies = await streamCopies(sys, "AKIRA", "CDR_RT");
    assert.deepEqual(
      copies.map((c) => [c.server, c.messages, c.lastSeq]),
      ["nats-1", "nats-2", "nats-3"].map((s) => [s, MESSAGES - DELETED.length, MESSAGES]),
    );
    assert.deepEqual(await digest(nc, "CDR_RT"), beforeDigest);
  });

  it("restore over an existing stream - refused, stream untouched", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "EXISTS", subjects: ["exists.>"] });
    await fill(cluster, nc, "EXISTS", 10);
    const dir = join(tempDir(t), "b");
    await backupStream(nc, "EXISTS", dir);
    await fill(cluster, nc, "EXISTS", 5);
    const before = await streamInfoRaw(nc, "EXISTS");
    await assert.rejects(restoreStream(nc, dir), {
      code: "stream-exists",
      message:
        "stream EXISTS already exists: it was left untouched; to replace it, back it up (akira-nats stream backup EXISTS <new-dir>), delete it, then restore again",
    });
    assert.deepEqual((await streamInfoRaw(nc, "EXISTS")).state, before.state);
  });

  it("more replicas than the cluster has servers - refused before upload, with and without the system account", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "FIVE", subjects: ["five.>"] });
    await fill(cluster, nc, "FIVE", 10);
    const dir = join(tempDir(t), "five");
    await backupStream(nc, "FIVE", dir);
    await jsm.streams.delete("FIVE");
    await assert.rejects(restoreStream(nc, dir, { replicas: 5, systemConnection: sys }), {
      code: "bad-replicas",
      message:
        "cannot restore FIVE with 5 replicas into a cluster of 3 JetStream servers: each copy needs its own server; nothing was sent. Restore with --replicas 3 or fewer",
    });
    // Without the system account the size is unknown; the server's refusal is read the same way.
    await assert.rejects(restoreStream(nc, dir, { replicas: 5 }), {
      code: "bad-replicas",
      message:
        "cannot restore FIVE with 5 replicas: fewer than 5 JetStream servers of the cluster can take a copy now (akira-nats server list shows them); nothing was sent. Restore with --replicas at most the cluster size, or bring the missing servers back",
    });
    await assert.rejects(streamInfoRaw(nc, "FIVE"), { code: "stream-not-found" });
  });

  it("memory stream - refused, nothing written", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "MEM", subjects: ["mem.>"], storage: "memory" as never });
    const dir = join(tempDir(t), "mem-backup");
    await assert.rejects(backupStream(nc, "MEM", dir), {
      code: "memory-stream",
      message:
        "stream MEM uses memory storage, which JetStream cannot snapshot: nothing was written; back up a file-storage stream (or copy it into one first)",
    });
    assert.equal(existsSync(dir), false);
  });

  it("non-empty target directory - refused, nothing written", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "FULL", subjects: ["full.>"] });
    const dir = tempDir(t);
    writeFileSync(join(dir, "old-backup.json"), "{}");
    await assert.rejects(backupStream(nc, "FULL", dir), {
      code: "target-not-empty",
      message: `backup directory ${dir} is not empty (1 entry): nothing was written; choose a new or empty directory`,
    });
    assert.deepEqual(readdirSync(dir), ["old-backup.json"]);
    const file = join(dir, "old-backup.json");
    await assert.rejects(backupStream(nc, "FULL", file), {
      code: "target-not-empty",
      message: `backup target ${file} exists and is not a directory: nothing was written; choose a new or empty directory`,
    });
  });

  it("backup.json as natscli writes it (Go field set, newer fields, no trailing newline) - restores", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "FROM_NATSCLI", subjects: ["from_natscli.>"] });
    await fill(cluster, nc, "FROM_NATSCLI", 30);
    const dir = join(tempDir(t), "b");
    await backupStream(nc, "FROM_NATSCLI", dir);
    await jsm.streams.delete("FROM_NATSCLI");
    const metaPath = join(dir, "backup.json");
    const { config, state } = JSON.parse(readFileSync(metaPath, "utf8"));
    // jsm.go marshals its own api.StreamConfig/StreamState: fields newer servers know, nulls for
    // empty lists, and json.MarshalIndent leaves no trailing newline.
    const natscli = {
      config: { ...config, compression: "none", consumer_limits: {}, metadata: { _nats: "cli" } },
      state: { ...state, deleted: null, lost: null },
    };
    writeFileSync(metaPath, JSON.stringify(natscli, null, 2));
    const restored = await restoreStream(nc, dir);
    assert.deepEqual([restored.stream, restored.messages, restored.lastSeq], ["FROM_NATSCLI", 30, 30]);
  });

  it("restored state differs from backup.json - error names both values", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "DRIFTED", subjects: ["drifted.>"] });
    await fill(cluster, nc, "DRIFTED", 20);
    const dir = join(tempDir(t), "b");
    await backupStream(nc, "DRIFTED", dir);
    await jsm.streams.delete("DRIFTED");
    const metaPath = join(dir, "backup.json");
    const meta = JSON.parse(readFileSync(metaPath, "utf8"));
    meta.state.messages = 21;
    // Without its digests (as natscli writes it), an edited backup.json is only caught afterwards.
    delete meta.akira_nats;
    writeFileSync(metaPath, JSON.stringify(meta, null, 2));
    const err = await restoreStream(nc, dir).catch((e) => e);
    assert.ok(err instanceof AkiraNatsError);
    assert.equal(
      err.message,
      "restored stream DRIFTED does not match its backup: messages 20 (backup.json: 21); the stream was quarantined: its subjects moved to akira-nats.quarantine.DRIFTED so nothing publishes into it, and server check stream reports it CRITICAL. Inspect it (akira-nats stream info DRIFTED), then remove it (nats stream rm DRIFTED) and restore again, or accept it as it is (akira-nats stream release DRIFTED)",
    );
    // Quarantined: publishers to its subjects reach nothing, the check says CRITICAL.
    const info = await streamInfoRaw(nc, "DRIFTED");
    assert.deepEqual(info.config.subjects, ["akira-nats.quarantine.DRIFTED"]);
    assert.deepEqual(quarantineOf(info.config)?.subjects, ["drifted.>"]);
    const check = await checkStream(nc, { stream: "DRIFTED" });
    assert.equal(check.status, 2);
    assert.match(check.line, /^CRITICAL DRIFTED Crit:quarantined by a restore that did not match its backup/);
    // A re-run says why it is refused; a release gives the subjects back.
    await assert.rejects(restoreStream(nc, dir), {
      message:
        "stream DRIFTED exists, quarantined by an earlier restore (restored stream DRIFTED does not match its backup: messages 20 (backup.json: 21)): remove it (nats stream rm DRIFTED) and restore again, or accept it (akira-nats stream release DRIFTED)",
    });
    assert.deepEqual(await releaseStream(nc, "DRIFTED"), ["drifted.>"]);
    assert.deepEqual((await streamInfoRaw(nc, "DRIFTED")).config.subjects, ["drifted.>"]);
    assert.equal((await checkStream(nc, { stream: "DRIFTED" })).status, 0);
  });
});

describe("stream backup - a failure midway leaves nothing behind (pilot)", () => {
  it("server killed during the backup - partial files and the created directory removed", async (t) => {
    const pilot = await startPilot(t);
    const nc = await connectNats({
      servers: pilot.servers,
      user: pilot.user,
      password: pilot.secrets.clientPassword,
    });
    t.after(() => nc.close());
    await (await nc.jetstreamManager()).streams.add({ name: "DOOMED", subjects: ["doomed.>"] });
    const payload = randomBytes(64 * 1024);
    for (let i = 0; i < 800; i++) nc.publish(`doomed.${i % 4}`, payload);
    await nc.flush();
    while ((await streamInfoRaw(nc, "DOOMED")).state.messages < 800)
      await new Promise((r) => setTimeout(r, 50));

    const dir = join(tempDir(t), "partial");
    let killed: Promise<void> | undefined;
    const err = await backupStream(nc, "DOOMED", dir, {
      onProgress: () => {
        killed ??= pilot.nodes[0]?.kill();
      },
    }).catch((e) => e);
    await killed;
    assert.ok(err instanceof AkiraNatsError, inspect(err));
    assert.equal(
      err.message,
      "backup of DOOMED ended before the server finished (connection closed); the partial backup was removed; retry",
    );
    assert.equal(existsSync(dir), false);
    // Nor is the private working directory left beside it.
    assert.deepEqual(readdirSync(join(dir, "..")), []);
  });
});

describe("stream backup under live traffic (pilot)", () => {
  it("messages published while the snapshot ran are restored and reported (on lines whose tar can outrun its state); a short restore still fails", async (t) => {
    const pilot = await startPilot(t);
    const target = { servers: pilot.servers, user: pilot.user, password: pilot.secrets.clientPassword };
    const nc = await connectNats(target);
    t.after(() => nc.close());
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "LIVE", subjects: ["live.>"] });
    const body = new Uint8Array(200);
    // A publisher on its own connection, as fast as the server takes it (on older lines the
    // snapshot's state is taken before its blocks are read, so some backups catch messages beyond
    // backup.json), bounded in count and time: at most 400k messages (about 100 MB) or 20 s. A fast line reaches the count in a few seconds; 2.9 needs the speed to
    // catch a backup beyond its state (serverLines.ts snapshotMayOutrunState).
    const pc = await connectNats(target);
    const MAX_MESSAGES = 400_000;
    const deadline = Date.now() + 20_000;
    let publishing = true;
    let publisherDone = false;
    const publisher = (async () => {
      for (let i = 1; publishing && i <= MAX_MESSAGES && Date.now() < deadline; i++) {
        pc.publish(`live.${i % 10}`, body);
        if (i % 500 === 0) await pc.flush();
      }
      await pc.close();
      publisherDone = true;
    })();
    while ((await streamInfoRaw(nc, "LIVE")).state.messages < 2000)
      await new Promise((r) => setTimeout(r, 20));
    const dirs: string[] = [];
    // About half the backups catch extra messages on an idle machine; thirty keep a busy one from missing all.
    // Backups after the publisher stopped cannot catch anything: stop there too.
    for (let k = 0; k < 30 && !publisherDone; k++) {
      const dir = join(tempDir(t), `live-${k}`);
      await backupStream(nc, "LIVE", dir);
      dirs.push(dir);
    }
    publishing = false;
    await publisher;

    let withExtra: { dir: string; messages: number; lastSeq: number; bytes: number } | undefined;
    for (const dir of dirs) {
      const { state } = JSON.parse(readFileSync(join(dir, "backup.json"), "utf8"));
      await jsm.streams.delete("LIVE");
      const r = await restoreStream(nc, dir);
      const extra = r.messages - state.messages;
      assert.equal(r.firstSeq, state.first_seq);
      // The extra messages follow the state; under heavy load 2.10 was seen to capture them with
      // gaps (71088 messages up to sequence 79530), so they need not be contiguous.
      assert.ok(extra >= 0 && r.lastSeq - state.last_seq >= extra, JSON.stringify({ state, r }));
      assert.equal(r.publishedDuringSnapshot, extra);
      assert.equal(r.note, extra > 0 ? `${extra} messages published while the snapshot ran` : undefined);
      if (extra > 0) withExtra ??= { dir, messages: r.messages, lastSeq: r.lastSeq, bytes: r.bytes };
    }
    // Older lines record the state before reading the blocks; newer ones snapshot consistently.
    const version = nc.info?.version ?? "";
    if (serverLine(version).snapshotMayOutrunState) {
      assert.ok(withExtra, "no backup under traffic caught a message beyond its backup.json");
    } else {
      assert.equal(withExtra, undefined, `nats-server ${version}: a snapshot outran its state`);
      const last = dirs.at(-1) as string;
      const { state } = JSON.parse(readFileSync(join(last, "backup.json"), "utf8"));
      withExtra = { dir: last, messages: state.messages, lastSeq: state.last_seq, bytes: state.bytes };
    }

    // backup.json claiming more than the data holds: the restore is short and still refused.
    const metaPath = join(withExtra.dir, "backup.json");
    const meta = JSON.parse(readFileSync(metaPath, "utf8"));
    meta.state = {
      ...meta.state,
      messages: withExtra.messages + 1,
      last_seq: withExtra.lastSeq + 1,
      bytes: withExtra.bytes + 100,
    };
    // As natscli writes it: no digests, so only the check after the restore can catch it.
    delete meta.akira_nats;
    writeFileSync(metaPath, JSON.stringify(meta, null, 2));
    await jsm.streams.delete("LIVE");
    const err = await restoreStream(nc, withExtra.dir).catch((e) => e);
    assert.ok(err instanceof AkiraNatsError, String(err));
    assert.equal(err.code, "restore-mismatch");
    assert.equal(
      err.message,
      `restored stream LIVE does not match its backup: messages ${withExtra.messages} (backup.json: ${withExtra.messages + 1}), last_seq ${withExtra.lastSeq} (backup.json: ${withExtra.lastSeq + 1}), bytes ${withExtra.bytes} (backup.json: ${withExtra.bytes + 100}); the stream was quarantined: its subjects moved to akira-nats.quarantine.LIVE so nothing publishes into it, and server check stream reports it CRITICAL. Inspect it (akira-nats stream info LIVE), then remove it (nats stream rm LIVE) and restore again, or accept it as it is (akira-nats stream release LIVE)`,
    );
  });
});
