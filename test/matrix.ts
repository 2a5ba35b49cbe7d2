/**
 * `npm test`: the suite on every server line the project supports, in one run.
 *
 *  1. everything on the pinned line (what production runs);
 *  2. the server-facing tests again on the oldest line a pilot may run (Debian's 2.9.10);
 *  3. once, on the pinned line: the cross-version tests (a 2.9 pilot cut over to a pinned-line
 *     cluster, a rolling upgrade across lines; they pick their binaries themselves) and the
 *     server tests whose subject does not depend on the line (test/once: state portability, a
 *     kept-running rehearsal).
 *
 * With `NATS_SERVER_BIN` set, one pass runs everything on that binary instead. Prints each pass's
 * figures and a closing "N passed, N failed" line; exits non-zero when any pass failed.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { OLDEST_PILOT_NATS_VERSION, PINNED_NATS_VERSION } from "../components/jetstream/serverLines";
import { binaryVersion, natsServerBinFor } from "../scripts/local/natsServerBin";

const ROOT = join(__dirname, "..");
const SERVER_TESTS = ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"];
const CROSS_VERSION_TESTS = ["test/cross-version/**/*.test.ts", "test/once/**/*.test.ts"];

interface Pass {
  readonly name: string;
  readonly bin: string;
  readonly files: readonly string[];
}

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

function passes(): Pass[] {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv !== undefined && fromEnv !== "") {
    const version = binaryVersion(fromEnv) ?? "unknown version";
    return [
      {
        name: `NATS_SERVER_BIN (${version})`,
        bin: fromEnv,
        files: ["test/unit/**/*.test.ts", ...SERVER_TESTS, ...CROSS_VERSION_TESTS],
      },
    ];
  }
  const pinned = natsServerBinFor(PINNED_NATS_VERSION);
  return [
    {
      name: `pinned line ${PINNED_NATS_VERSION}`,
      bin: pinned,
      files: ["test/unit/**/*.test.ts", ...SERVER_TESTS],
    },
    {
      name: `oldest pilot line ${OLDEST_PILOT_NATS_VERSION}`,
      bin: natsServerBinFor(OLDEST_PILOT_NATS_VERSION),
      files: SERVER_TESTS,
    },
    { name: "cross-version", bin: pinned, files: CROSS_VERSION_TESTS },
  ];
}

/** Runs one pass through node's test runner, echoing its output, and reads its closing figures. */
function run(pass: Pass): Promise<Tally> {
  process.stdout.write(`\n=== ${pass.name}: ${pass.bin}\n`);
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...pass.files],
    { cwd: ROOT, env: { ...process.env, NATS_SERVER_BIN: pass.bin }, stdio: ["ignore", "pipe", "inherit"] },
  );
  // The runner's closing figures ("ℹ pass 391"), read line by line as they stream past: a long
  // list of failing tests follows them, so they are not at the end of the output.
  const figures: Record<string, number> = {};
  let partial = "";
  child.stdout.on("data", (chunk: Buffer) => {
    process.stdout.write(chunk);
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const m = /^ℹ (pass|fail|cancelled|skipped) (\d+)$/.exec(line);
      if (m !== null) figures[m[1] as string] = Number(m[2]);
    }
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      const figure = (label: string) => figures[label] ?? 0;
      const tally = {
        passed: figure("pass"),
        failed: figure("fail") + figure("cancelled"),
        skipped: figure("skipped"),
      };
      // A runner that died without its summary still fails the pass.
      if (code !== 0 && tally.failed === 0) tally.failed = 1;
      resolve(tally);
    });
  });
}

async function main(): Promise<number> {
  const started = Date.now();
  const results: [Pass, Tally][] = [];
  for (const pass of passes()) results.push([pass, await run(pass)]);
  process.stdout.write("\n=== test matrix\n");
  for (const [pass, t] of results) {
    process.stdout.write(`${pass.name}: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped\n`);
  }
  const sum = (k: keyof Tally) => results.reduce((n, [, t]) => n + t[k], 0);
  process.stdout.write(`all lines in ${Math.round((Date.now() - started) / 1000)} s\n`);
  process.stdout.write(`${sum("passed")} passed, ${sum("failed")} failed, ${sum("skipped")} skipped\n`);
  return sum("failed") > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`npm test: ${err.message}\n`);
    process.exitCode = 1;
  },
);
