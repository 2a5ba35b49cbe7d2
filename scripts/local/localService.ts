/**
 * The node script's service commands for a local "host": instead of systemd, nats-server runs as
 * a background process whose PID sits in `<root>/run/nats-server.pid`. Everything else in the
 * script (install, validation, lame-duck, swap, health gate) is the same code the VMs run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type NodePaths, type ServiceCommands, shellQuote } from "../../components/cluster/nodeScript";

export interface LocalHost {
  readonly root: string;
  readonly paths: NodePaths;
  readonly service: ServiceCommands;
  readonly pidFile: string;
  readonly logFile: string;
  /** PID of the running nats-server, if any. */
  pid(): number | undefined;
  /** SIGTERM (a clean shutdown) and wait until it is gone. */
  stop(): Promise<void>;
  /** SIGKILL whatever runs (test clean-up), and wait until it is gone. */
  kill(): Promise<void>;
}

/** Paths and service commands of a host rooted at `root` (e.g. a temporary directory). */
export function localHost(root: string): LocalHost {
  const paths: NodePaths = {
    confDir: join(root, "etc/nats"),
    installDir: join(root, "opt/nats"),
    binLink: join(root, "usr/local/bin/nats-server"),
    sshHostKey: join(root, "etc/ssh/ssh_host_ed25519_key.pub"),
  };
  const pidFile = join(root, "run/nats-server.pid");
  const logFile = join(root, "log/nats-server.log");
  const pf = shellQuote(pidFile);
  const running = `[ -s ${pf} ] && kill -0 "$(cat ${pf})" 2>/dev/null && ! grep -q '^[^)]*) Z' "/proc/$(cat ${pf})/stat" 2>/dev/null`;
  const service: ServiceCommands = {
    // setsid + redirected stdio: the server outlives the script and holds none of its pipes.
    start: `mkdir -p ${shellQuote(join(root, "run"))} ${shellQuote(join(root, "log"))} && { setsid ${shellQuote(paths.binLink)} -c ${shellQuote(join(paths.confDir, "nats-server.conf"))} >>${shellQuote(logFile)} 2>&1 </dev/null & echo $! >${pf}; }`,
    stop: `if ${running}; then p="$(cat ${pf})"; kill -TERM "$p"; while kill -0 "$p" 2>/dev/null && ! grep -q '^[^)]*) Z' "/proc/$p/stat" 2>/dev/null; do sleep 0.1; done; fi; rm -f ${pf}`,
    isActive: running,
    mainPid: `cat ${pf} 2>/dev/null || echo 0`,
    logTail: `tail -n 40 ${shellQuote(logFile)} 2>/dev/null || echo '(no log)'`,
  };
  const pid = (): number | undefined => {
    try {
      const n = Number.parseInt(readFileSync(pidFile, "utf8").trim(), 10);
      return Number.isNaN(n) ? undefined : n;
    } catch {
      return undefined;
    }
  };
  return {
    root,
    paths,
    service,
    pidFile,
    logFile,
    pid,
    stop: () => signalAndWait(pid(), "SIGTERM"),
    kill: () => signalAndWait(pid(), "SIGKILL"),
  };
}

async function signalAndWait(p: number | undefined, signal: NodeJS.Signals): Promise<void> {
  if (p === undefined) return;
  try {
    process.kill(p, signal);
  } catch {
    return;
  }
  while (processAlive(p)) await new Promise((r) => setTimeout(r, 50));
}

/** True while `pid` runs (a zombie counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

export interface ScriptRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a rendered node script the way the remote command does (`$SHELL -c <text>`, secrets on
 * STDIN). Never rejects: the caller judges the exit code.
 */
export async function runNodeScript(script: string, stdin: string): Promise<ScriptRun> {
  const { spawn } = await import("node:child_process");
  const child = spawn("bash", ["-c", script], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdin.end(stdin);
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  return { code, stdout, stderr };
}
