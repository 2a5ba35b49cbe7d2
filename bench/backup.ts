/**
 * `npm run bench:backup [-- --sizes 100,1024] [--repeat 3]`: backup and restore throughput of
 * `akira-nats stream backup/restore` against a plain `cp -r` of the same stream's store directory,
 * and the peak RSS of the backing-up / restoring process per stream size.
 *
 * For every size (MiB): a local single-node server (the pilot's config) gets a file stream of
 * incompressible 8 KiB messages (the worst case for the server's s2 compression); then
 * 1. `cp -r` of the stream's store directory (the reference), then the snapshot protocol alone
 *    (chunks received and acked, nothing written: the ceiling set by the server and connection),
 * 2. a child process runs backupStream (so its peak RSS belongs to that size alone),
 * 3. the stream is deleted and a child process runs restoreStream (verifying against backup.json).
 * Steps 1–3 run `--repeat` times (default 3) and the fastest of each counts; RSS is the highest.
 * Throughput is stream bytes / wall time. Everything lives in a temporary directory, removed after.
 * Every size is measured on each nats-server line (bench/lines.ts; `--nats-server PATH,PATH`).
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInbox, type NatsConnection } from "nats";
import { connectNats } from "../components/jetstream/connection";
import { jsApiRequest, streamInfoRaw } from "../components/jetstream/jsApiRequest";
import { restoreStream } from "../components/jetstream/restore";
import { backupStream } from "../components/jetstream/snapshot";
import { createLocalPilot, randomSecrets } from "../scripts/local/localNats";
import { benchLines, measuringOneLine, reportResult, runPerLine } from "./lines";

const STREAM = "BENCH_CDR";
const MSG_SIZE = 8 * 1024;
const MiB = 1024 * 1024;

interface ChildReport {
  readonly ms: number;
  readonly maxRssMiB: number;
}

interface SizeResult {
  readonly sizeMiB: number;
  readonly streamBytes: number;
  readonly copyMBs: number;
  readonly protocolMBs: number;
  readonly backupMBs: number;
  readonly restoreMBs: number;
  readonly backupRssMiB: number;
  readonly restoreRssMiB: number;
}

/** Child mode: one backup or restore, then report wall time and this process's peak RSS. */
async function child(mode: string, dir: string): Promise<void> {
  const target = JSON.parse(process.env.BENCH_TARGET ?? "{}");
  const nc = await connectNats(target);
  const started = Date.now();
  if (mode === "backup") await backupStream(nc, STREAM, dir);
  else if (mode === "restore") await restoreStream(nc, dir);
  else if (mode === "protocol") await snapshotWithoutDisk(nc);
  const ms = Date.now() - started;
  await nc.close();
  const report: ChildReport = { ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(JSON.stringify(report));
}

function runChild(
  mode: "backup" | "restore" | "baseline" | "protocol",
  dir: string,
  target: object,
): Promise<ChildReport> {
  const proc = spawn(process.execPath, ["--import", "tsx", __filename, "--child", mode, dir], {
    env: { ...process.env, BENCH_TARGET: JSON.stringify(target) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  proc.stdout.on("data", (d) => {
    out += d;
  });
  return new Promise((resolve, reject) => {
    proc.once("close", (code) =>
      code === 0
        ? resolve(JSON.parse(out) as ChildReport)
        : reject(new Error(`${mode} child exited ${code}`)),
    );
  });
}

/**
 * The snapshot protocol alone: receive and ack every chunk, write nothing. Its rate is the
 * ceiling the server and the connection allow; the gap to backupStream is our own cost.
 */
async function snapshotWithoutDisk(nc: NatsConnection): Promise<void> {
  const inbox = createInbox();
  const done = new Promise<void>((resolve) => {
    nc.subscribe(inbox, {
      callback: (_err, m) => {
        if (m.data.length === 0) return resolve();
        m.respond();
      },
    });
  });
  await nc.flush();
  await jsApiRequest(nc, `$JS.API.STREAM.SNAPSHOT.${STREAM}`, {
    deliver_subject: inbox,
    no_consumers: true,
    chunk_size: 256 * 1024,
  });
  await done;
}

/** Core publishes (no per-message ack) and waits until the stream holds them all. */
async function fill(nc: NatsConnection, sizeMiB: number): Promise<void> {
  const count = Math.ceil((sizeMiB * MiB) / MSG_SIZE);
  const pool = randomBytes(MSG_SIZE * 64);
  for (let i = 0; i < count; i++) {
    const off = (i * 7919) % (pool.length - MSG_SIZE);
    nc.publish(`bench.cdr.${i % 16}`, pool.subarray(off, off + MSG_SIZE));
    if (i % 2000 === 0) await nc.flush();
  }
  await nc.flush();
  while ((await streamInfoRaw(nc, STREAM)).state.messages < count)
    await new Promise((r) => setTimeout(r, 200));
}

const mbs = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

async function benchSize(sizeMiB: number, repeats: number): Promise<SizeResult> {
  const dir = mkdtempSync(join(tmpdir(), "akira-bench-"));
  const pilot = await createLocalPilot({ dir, secrets: randomSecrets(), maxFileStoreBytes: 8 * 1024 * MiB });
  try {
    await pilot.start();
    await pilot.waitHealthy();
    const target = { servers: pilot.servers, user: pilot.user, password: pilot.secrets.clientPassword };
    const nc = await connectNats(target);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: STREAM, subjects: ["bench.cdr.>"] });
    await fill(nc, sizeMiB);
    const streamBytes = (await streamInfoRaw(nc, STREAM)).state.bytes;
    const node = pilot.nodes[0];
    if (node === undefined) throw new Error("no node");
    // nats-server appends "jetstream" to store_dir.
    const storeDir = join(node.storeDir, "jetstream", "AKIRA", "streams", STREAM);

    // Best of `repeats` for each measurement: the machine is shared, the fastest run is the one
    // least disturbed. Each round ends with the stream restored, ready for the next.
    const best = { copyMs: Infinity, protocolMs: Infinity, backupMs: Infinity, restoreMs: Infinity };
    let backupRss = 0;
    let restoreRss = 0;
    for (let round = 0; round < repeats; round++) {
      // Start every measurement from clean pages: otherwise whichever reads first (the server's
      // first snapshot syncs the store) pays for writing back the fill.
      execFileSync("sync");
      const copyStart = Date.now();
      // Neither side fsyncs: both measure reading the store and writing through the page cache.
      execFileSync("cp", ["-r", storeDir, join(dir, "copy")]);
      best.copyMs = Math.min(best.copyMs, Date.now() - copyStart);
      rmSync(join(dir, "copy"), { recursive: true, force: true });

      best.protocolMs = Math.min(best.protocolMs, (await runChild("protocol", dir, target)).ms);
      const backupDir = join(dir, `backup-${round}`);
      const backup = await runChild("backup", backupDir, target);
      await jsm.streams.delete(STREAM);
      const restore = await runChild("restore", backupDir, target);
      rmSync(backupDir, { recursive: true, force: true });
      best.backupMs = Math.min(best.backupMs, backup.ms);
      best.restoreMs = Math.min(best.restoreMs, restore.ms);
      backupRss = Math.max(backupRss, backup.maxRssMiB);
      restoreRss = Math.max(restoreRss, restore.maxRssMiB);
    }
    await nc.close();
    return {
      sizeMiB,
      streamBytes,
      copyMBs: mbs(streamBytes, best.copyMs),
      protocolMBs: mbs(streamBytes, best.protocolMs),
      backupMBs: mbs(streamBytes, best.backupMs),
      restoreMBs: mbs(streamBytes, best.restoreMs),
      backupRssMiB: backupRss,
      restoreRssMiB: restoreRss,
    };
  } finally {
    await pilot.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** RSS of a child that connects and does nothing: the floor under the per-size figures. */
async function benchBaseline(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "akira-bench-"));
  const pilot = await createLocalPilot({ dir, secrets: randomSecrets() });
  try {
    await pilot.start();
    const r = await runChild("baseline", dir, {
      servers: pilot.servers,
      user: pilot.user,
      password: pilot.secrets.clientPassword,
    });
    return r.maxRssMiB;
  } finally {
    await pilot.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface LineResult {
  readonly baselineRssMiB: number;
  readonly sizes: SizeResult[];
}

/** Child: every size on the line NATS_SERVER_BIN names. */
async function measureLine(sizes: number[], repeats: number): Promise<void> {
  const baselineRssMiB = await benchBaseline();
  const results: SizeResult[] = [];
  for (const size of sizes) results.push(await benchSize(size, repeats));
  reportResult({ baselineRssMiB, sizes: results } satisfies LineResult);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === "--child") {
    await child(argv[1] ?? "", argv[2] ?? "");
    return;
  }
  const sizesArg = argv[argv.indexOf("--sizes") + 1];
  const sizes = argv.includes("--sizes") && sizesArg ? sizesArg.split(",").map(Number) : [100, 1024];
  const repeatArg = argv[argv.indexOf("--repeat") + 1];
  const repeats = argv.includes("--repeat") && repeatArg ? Number(repeatArg) : 3;
  if (measuringOneLine()) return measureLine(sizes, repeats);
  const perLine = await runPerLine<LineResult>(__filename, argv, benchLines(argv));
  const f1 = (n: number) => n.toFixed(1);
  console.log(`${MSG_SIZE}-byte random (incompressible) messages; load average ${loadavg()[0]?.toFixed(1)}`);
  for (const [line, r] of perLine) {
    console.log(
      `peak RSS of a child that only connects (node + tsx + nats.js), nats-server ${line.version} run: ${f1(r.baselineRssMiB)} MiB`,
    );
  }
  console.log("");
  const headers = [
    "nats-server",
    "size MiB",
    "stream MB",
    "cp -r MB/s",
    "protocol only MB/s",
    "backup MB/s (x cp)",
    "restore MB/s (x cp)",
    "peak RSS backup MiB",
    "peak RSS restore MiB",
  ];
  console.log(`| ${headers.join(" | ")} |`);
  console.log(`|${headers.map(() => "---").join("|")}|`);
  // One row per size and line, the lines of one size together so they read side by side.
  sizes.forEach((_, i) => {
    for (const [line, lr] of perLine) {
      const r = lr.sizes[i] as SizeResult;
      const cells = [
        line.version,
        r.sizeMiB,
        f1(r.streamBytes / 1e6),
        f1(r.copyMBs),
        f1(r.protocolMBs),
        `${f1(r.backupMBs)} (${(r.backupMBs / r.copyMBs).toFixed(2)})`,
        `${f1(r.restoreMBs)} (${(r.restoreMBs / r.copyMBs).toFixed(2)})`,
        f1(r.backupRssMiB),
        f1(r.restoreRssMiB),
      ];
      console.log(`| ${cells.join(" | ")} |`);
    }
  });
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`bench:backup: ${(err as Error).message}`);
  process.exitCode = 1;
});
