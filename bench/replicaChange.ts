/**
 * How long R1→R3 takes until every replica is current (leader's word AND each server's own copy,
 * as changeReplicas checks it), next to a plain `cp -r` of the same stream's store directory on
 * the same machine in the same run, on each nats-server line (bench/lines.ts). Prints one row per
 * size with every line's figures side by side and the ratio (target ≤ 3×).
 *
 *   npm run bench:replicas                      # 10 MB, 100 MB, 1 GB; pinned and oldest pilot line
 *   npm run bench:replicas -- --sizes 10MB,200MB
 *   npm run bench:replicas -- --message-bytes 1024
 *   npm run bench:replicas -- --nats-server .nats/2.10.27/nats-server,.nats/2.15.1/nats-server
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "nats";
import { connectNats } from "../components/jetstream/connection";
import { changeReplicas } from "../components/jetstream/replicas";
import { createStream, streamSnapshotInfo } from "../components/jetstream/streams";
import { createLocalCluster, randomSecrets } from "../scripts/local/localNats";
import { benchLines, measuringOneLine, reportResult, runPerLine } from "./lines";

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)$/i.exec(text.trim());
  if (m === null) throw new Error(`bad size "${text}": use e.g. 10MB, 1GB`);
  return Math.round(Number(m[1]) * (UNITS[(m[2] as string).toUpperCase()] as number));
}

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function fill(
  nc: NatsConnection,
  stream: string,
  bytes: number,
  messageBytes: number,
): Promise<number> {
  const payload = new Uint8Array(messageBytes).fill(120);
  const count = Math.ceil(bytes / messageBytes);
  for (let i = 0; i < count; i++) {
    nc.publish(`akira.cdr.bench.${i % 64}`, payload);
    // Flushing every few MB keeps the server's slow-consumer protection out of the way.
    if (i % 2000 === 1999) await nc.flush();
  }
  await nc.flush();
  while ((await streamSnapshotInfo(nc, stream)).state.messages < count) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return count;
}

function copySeconds(from: string, to: string): number {
  // Drop the page cache's advantage as far as an unprivileged copy allows: sync first.
  spawnSync("sync");
  const started = process.hrtime.bigint();
  const r = spawnSync("cp", ["-r", from, to]);
  if (r.status !== 0) throw new Error(`cp -r ${from} failed: ${r.stderr}`);
  spawnSync("sync");
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function benchOne(bytes: number, messageBytes: number) {
  const dir = mkdtempSync(join(tmpdir(), "akira-bench-replicas-"));
  const cluster = await createLocalCluster({
    dir,
    secrets: randomSecrets(),
    maxFileStoreBytes: 8 * 1024 ** 3,
  });
  try {
    await cluster.start();
    await cluster.waitHealthy();
    const target = { servers: cluster.servers, timeoutMs: 10_000 };
    const nc = await connectNats({ ...target, user: "akira", password: cluster.secrets.clientPassword });
    const sys = await connectNats({ ...target, user: "system", password: cluster.secrets.systemPassword });
    const stream = "AKIRA_CDR";
    await createStream(nc, stream, { subjects: ["akira.cdr.>"], replicas: 1 });
    const messages = await fill(nc, stream, bytes, messageBytes);
    const info = await streamSnapshotInfo(nc, stream);
    const leader = cluster.nodes.find((n) => n.spec.name === info.cluster?.leader);
    if (leader === undefined) throw new Error("no stream leader");
    const storeDir = join(leader.storeDir, "jetstream", "AKIRA", "streams", stream);
    const cp = copySeconds(storeDir, join(dir, "copy"));

    const started = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - started) / 1e9;
    // When the leader first called every follower current while some server's copy was still short.
    let leaderSaidCurrent: number | undefined;
    await changeReplicas(nc, stream, 3, {
      timeoutMs: 30 * 60_000,
      systemConnection: sys,
      canary: false,
      pollMs: 100,
      onProgress: (p) => {
        if (leaderSaidCurrent === undefined && p.message.startsWith(`${stream}: copies:`))
          leaderSaidCurrent = since();
      },
    });
    const replicate = since();
    await Promise.all([nc.close(), sys.close()]);
    return { messages, storedBytes: info.state.bytes, cp, replicate, leaderSaidCurrent };
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type SizeResult = Awaited<ReturnType<typeof benchOne>>;

/** Child: every size on the line NATS_SERVER_BIN names. */
async function measureLine(sizes: number[], messageBytes: number): Promise<void> {
  const results: SizeResult[] = [];
  for (const size of sizes) results.push(await benchOne(size, messageBytes));
  reportResult(results);
}

async function main() {
  const sizes = flag("sizes", "10MB,100MB,1GB").split(",").map(parseSize);
  const messageBytes = Number(flag("message-bytes", "4096"));
  if (measuringOneLine()) return measureLine(sizes, messageBytes);
  const lines = benchLines(process.argv);
  const perLine = await runPerLine<SizeResult[]>(__filename, process.argv.slice(2), lines);
  console.log(
    `R1→R3 until every replica is current vs cp -r of the leader's stream directory (${messageBytes}-byte messages)`,
  );
  const head = lines.map(
    (l) => `${`nats-server ${l.version}: cp -r / R1→R3 (s), ratio, leader said current (s)`}`,
  );
  console.log(`size       messages  | ${head.join(" | ")}`);
  sizes.forEach((_, i) => {
    const first = perLine[0]?.[1][i];
    if (first === undefined) return;
    const mb = (first.storedBytes / 1024 ** 2).toFixed(0).padStart(6);
    const cells = perLine.map(([, rs]) => {
      const r = rs[i] as SizeResult;
      const said = r.leaderSaidCurrent === undefined ? "-" : r.leaderSaidCurrent.toFixed(2);
      return `${r.cp.toFixed(2)} / ${r.replicate.toFixed(2)}, ${(r.replicate / r.cp).toFixed(1)}×, ${said}`;
    });
    console.log(`${mb} MB ${String(first.messages).padStart(9)}  | ${cells.join(" | ")}`);
  });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
