/**
 * Operator hooks as shell commands. Each is configured by a flag, an environment variable or a
 * hooks file (JSON), in that order of precedence:
 *
 * | hook   | flag            | environment              | file key |
 * |--------|-----------------|--------------------------|----------|
 * | pause  | `--hook-pause`  | `AKIRA_NATS_HOOK_PAUSE`  | `pause`  |
 * | resume | `--hook-resume` | `AKIRA_NATS_HOOK_RESUME` | `resume` |
 * | point  | `--hook-point`  | `AKIRA_NATS_HOOK_POINT`  | `point`  |
 *
 * A command runs with `sh -c`; `point` gets the new URLs in `AKIRA_NATS_URL` (never a password:
 * applications keep their own credentials). A non-zero exit fails the step with the command's output.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type { OperatorHooks } from "./infra";

export interface HookCommands {
  readonly pause?: string;
  readonly resume?: string;
  readonly point?: string;
}

export interface HookFlags {
  readonly hooks?: string;
  readonly hookPause?: string;
  readonly hookResume?: string;
  readonly hookPoint?: string;
}

const HOOK_KEYS = ["pause", "resume", "point"] as const;

/** Resolves flags, environment and the hooks file into commands. */
export function hookCommands(flags: HookFlags, env: NodeJS.ProcessEnv = process.env): HookCommands {
  let file: HookCommands = {};
  if (flags.hooks !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(flags.hooks, "utf8"));
    } catch (err) {
      throw new Error(
        `--hooks ${flags.hooks}: ${(err as Error).message} (expected JSON like {"pause": "…", "resume": "…", "point": "…"})`,
      );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Error(`--hooks ${flags.hooks}: expected a JSON object with the keys pause, resume, point`);
    }
    for (const [k, v] of Object.entries(parsed)) {
      if (!(HOOK_KEYS as readonly string[]).includes(k) || typeof v !== "string") {
        throw new Error(
          `--hooks ${flags.hooks}: "${k}" is not a hook (use pause, resume, point with a command string each)`,
        );
      }
    }
    file = parsed as HookCommands;
  }
  const pick = (flag: string | undefined, envName: string, fromFile: string | undefined) =>
    flag ?? env[envName] ?? fromFile;
  return {
    pause: pick(flags.hookPause, "AKIRA_NATS_HOOK_PAUSE", file.pause),
    resume: pick(flags.hookResume, "AKIRA_NATS_HOOK_RESUME", file.resume),
    point: pick(flags.hookPoint, "AKIRA_NATS_HOOK_POINT", file.point),
  };
}

/** Runs `command` with `sh -c`; rejects with its exit code and output tail on failure. */
export function runHookCommand(
  hook: string,
  command: string,
  env: Readonly<Record<string, string>> = {},
  timeoutMs = 120_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", (err) => reject(new Error(`${hook} hook could not start: ${err.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve(out.trim());
      else {
        const tail = out.trim().split("\n").slice(-5).join("\n");
        reject(
          new Error(
            `${hook} hook exited with ${code ?? signal}${tail === "" ? "" : `: ${tail}`} (command configured with --hook-${hook}, AKIRA_NATS_HOOK_${hook.toUpperCase()} or --hooks)`,
          ),
        );
      }
    });
  });
}

/** Hooks that run the configured commands. */
export function commandHooks(cmds: HookCommands): OperatorHooks {
  const need = (hook: "pause" | "resume" | "point"): string => {
    const c = cmds[hook];
    if (c === undefined || c.trim() === "") throw new Error(`the ${hook} hook is not configured`);
    return c;
  };
  return {
    async pausePublishers() {
      await runHookCommand("pause", need("pause"));
    },
    async resumePublishers() {
      await runHookCommand("resume", need("resume"));
    },
    // The point hook gets the URLs and, for tls:// URLs, the authority to trust (PEM, public)
    // as AKIRA_NATS_CA: what an application needs to switch.
    async pointApplicationsAt(natsUrl: string, caCertificate?: string) {
      await runHookCommand("point", need("point"), {
        AKIRA_NATS_URL: natsUrl,
        ...(caCertificate === undefined ? {} : { AKIRA_NATS_CA: caCertificate }),
      });
    },
    missing() {
      return HOOK_KEYS.filter((k) => cmds[k] === undefined || cmds[k]?.trim() === "").map(
        (k) => `--hook-${k} (or AKIRA_NATS_HOOK_${k.toUpperCase()})`,
      );
    },
  };
}
