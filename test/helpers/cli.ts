/** Runs the real `akira-nats` CLI (TypeScript through tsx) as an operator would, capturing its output. */
import { spawn } from "node:child_process";
import { join } from "node:path";

export const PROJECT_ROOT = join(__dirname, "..", "..");

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ["--import", "tsx", join(PROJECT_ROOT, "scripts", "akira-nats.ts"), ...args],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => {
      stdout += String(d);
    });
    p.stderr.on("data", (d) => {
      stderr += String(d);
    });
    p.once("error", reject);
    p.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
