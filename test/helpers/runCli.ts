/** Runs the real `akira-nats` CLI in a child process, as an operator would. */
import { spawn } from "node:child_process";
import { join } from "node:path";

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const ROOT = join(__dirname, "..", "..");

/** The connection variables the CLI reads: a test never inherits them from its parent. */
const CONNECTION_ENV = [
  "NATS_URL",
  "NATS_USER",
  "NATS_PASSWORD",
  "NATS_SYSTEM_PASSWORD",
  "NATS_CA",
  "NATS_CERT",
  "NATS_KEY",
] as const;

/** `env` is all of the connection environment the CLI sees. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const base = { ...process.env };
  for (const name of CONNECTION_ENV) delete base[name];
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "scripts", "akira-nats.ts"), ...args],
    {
      cwd: ROOT,
      env: { ...base, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
