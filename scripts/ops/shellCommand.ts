/**
 * Operator-supplied commands (`--stop`, `--start`, `--lame-duck`) with `{node}` and `{host}`
 * filled in, run with `sh -c` like a CI step would. Names and hosts are checked against a strict
 * pattern before substitution, so a value can never smuggle shell syntax into the command.
 */
import { spawn } from "node:child_process";

export interface CommandResult {
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly output: string;
  readonly durationMs: number;
  readonly timedOut: boolean;
}

const SAFE_VALUE = /^[A-Za-z0-9._:\-[\]]+$/;

/** Replaces `{node}` and `{host}`; throws when a needed value is missing or unsafe. */
export function substitute(
  template: string,
  values: { readonly node: string; readonly host?: string },
): string {
  return template.replace(/\{(node|host)\}/g, (_m, key: "node" | "host") => {
    const value = values[key];
    if (value === undefined) {
      throw new Error(
        `the command "${template}" uses {${key}} but the ${key} of ${values.node} is unknown: pass --host ${values.node}=ADDRESS`,
      );
    }
    if (!SAFE_VALUE.test(value)) {
      throw new Error(
        `refusing to put ${key} "${value}" into a shell command: only letters, digits and . _ : - [ ] are allowed`,
      );
    }
    return value;
  });
}

/**
 * Runs `sh -c command`. Resolves on the shell's exit (not on its pipes closing: a start command
 * may leave a daemon behind that holds them open). Output is kept to the last 4 KB.
 */
export function runShell(command: string, timeoutMs: number): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", command], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-4096);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, timeoutMs);
    const finish = (exitCode: number | null, signal: string | null) => {
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      resolve({
        command,
        exitCode,
        signal,
        output: output.trim(),
        durationMs: Date.now() - started,
        timedOut,
      });
    };
    child.once("exit", finish);
    child.once("error", (err) => {
      output += err.message;
      finish(null, null);
    });
  });
}
