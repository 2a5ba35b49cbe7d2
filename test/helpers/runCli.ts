/** Runs the real `akira-nats` CLI in a child process, as an operator would. */
import { spawn } from "node:child_process";
import { join } from "node:path";

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const ROOT = join(__dirname, "..", "..");

/** `env` replaces NATS_URL/NATS_USER/NATS_PASSWORD from the parent, so tests never inherit them. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const base = { ...process.env };
  delete base.NATS_URL;
  delete base.NATS_USER;
  delete base.NATS_PASSWORD;
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
