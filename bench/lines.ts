/**
 * Runs a benchmark once per nats-server line in one run, so the lines are compared on the same
 * machine under the same load. Each line runs in a child process of the same benchmark script with
 * `NATS_SERVER_BIN` set (every local server of that child runs that binary); the child prints its
 * figures as one `BENCH_RESULT <json>` line, which the parent collects and puts side by side.
 *
 *   --nats-server PATH[,PATH…]   binaries to compare (default: the pinned line and the oldest pilot line)
 */
import { spawn } from "node:child_process";
import { OLDEST_PILOT_NATS_VERSION, PINNED_NATS_VERSION } from "../components/jetstream/serverLines";
import { binaryVersion, natsServerBinFor } from "../scripts/local/natsServerBin";

export interface BenchLine {
  readonly version: string;
  readonly bin: string;
}

const RESULT_PREFIX = "BENCH_RESULT ";

/** True in the child that measures one line. */
export function measuringOneLine(): boolean {
  return process.env.AKIRA_BENCH_ONE_LINE === "1";
}

/** The child's answer to the parent. */
export function reportResult(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

/** The lines to compare, from `--nats-server` (comma-separated or repeated), else pinned and oldest. */
export function benchLines(argv: readonly string[]): BenchLine[] {
  const paths: string[] = [];
  argv.forEach((a, i) => {
    if (a === "--nats-server") paths.push(...(argv[i + 1] ?? "").split(",").filter(Boolean));
  });
  const bins =
    paths.length > 0
      ? paths
      : [natsServerBinFor(PINNED_NATS_VERSION), natsServerBinFor(OLDEST_PILOT_NATS_VERSION)];
  return bins.map((bin) => {
    const version = binaryVersion(bin);
    if (version === undefined) {
      throw new Error(
        `--nats-server ${bin} does not run (\`${bin} --version\` failed): run bin/setup or fix the path`,
      );
    }
    return { version, bin };
  });
}

/** `argv` without `--nats-server` and its value: what the children get. */
function childArgs(argv: readonly string[]): string[] {
  return argv.filter((a, i) => a !== "--nats-server" && argv[i - 1] !== "--nats-server");
}

/** Runs `script` once per line (one after another), its progress on stderr, and returns each result. */
export async function runPerLine<T>(
  script: string,
  argv: readonly string[],
  lines: readonly BenchLine[],
): Promise<[BenchLine, T][]> {
  const results: [BenchLine, T][] = [];
  for (const line of lines) {
    process.stderr.write(`— nats-server ${line.version} (${line.bin})\n`);
    const child = spawn(process.execPath, ["--import", "tsx", script, ...childArgs(argv)], {
      env: { ...process.env, NATS_SERVER_BIN: line.bin, AKIRA_BENCH_ONE_LINE: "1" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const code: number | null = await new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("close", resolve);
    });
    const line0 = out.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
    if (code !== 0 || line0 === undefined) {
      throw new Error(
        `the benchmark on nats-server ${line.version} failed (exit ${code}): ${out.trim().slice(-500)}`,
      );
    }
    results.push([line, JSON.parse(line0.slice(RESULT_PREFIX.length)) as T]);
  }
  return results;
}
