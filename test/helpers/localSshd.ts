/**
 * A throwaway sshd on 127.0.0.1 (Debian's openssh-server), standing in for a GA node's SSH. Runs
 * as root with its own host key and authorized_keys in a temp dir; stopped when the test ends.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { ed25519KeyPair, type KeyPair } from "../../components/cluster/ed25519KeyPair";
import { freePort } from "../../scripts/local/localNats";
import { tempDir } from "./testServers";

export const SSHD_BIN = "/usr/sbin/sshd";

export interface LocalSshd {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The client key sshd accepts (OpenSSH format). */
  readonly privateKey: string;
  /** The host key's public blob, for fingerprint pinning. */
  readonly hostPublicKey: string;
}

/** Why sshd cannot run here, or undefined when it can. */
export function sshdUnavailable(): string | undefined {
  if (!existsSync(SSHD_BIN)) return `${SSHD_BIN} not installed (apt-get install -y openssh-server)`;
  if (process.getuid?.() !== 0) return "sshd needs root to switch to the logged-in user";
  return undefined;
}

/**
 * A real sshd on 127.0.0.1. Its host key is generated the way the program generates a GA node's
 * (`ed25519KeyPair`, installed by cloud-init there), unless `hostKey` is given.
 */
export async function startSshd(
  t: { after(fn: () => unknown): void },
  opts: { readonly hostKey?: KeyPair } = {},
): Promise<LocalSshd> {
  const dir = tempDir(t, "akira-sshd-");
  const hostKeyFile = join(dir, "host_key");
  const hostKey = opts.hostKey ?? ed25519KeyPair("akira-sshd");
  writeFileSync(hostKeyFile, hostKey.private, { mode: 0o600 });
  const hostPublicKey = hostKey.public.trim();
  const client = ed25519KeyPair("akira-nats test client");
  writeFileSync(join(dir, "authorized_keys"), `${client.public}\n`, { mode: 0o600 });
  const port = await freePort("127.0.0.1");
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `HostKey ${join(dir, "host_key")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "ListenAddress 127.0.0.1",
      `PidFile ${join(dir, "sshd.pid")}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      "AllowTcpForwarding yes",
      "",
    ].join("\n"),
  );
  // sshd refuses to start without its privilege-separation directory.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const proc: ChildProcess = spawn(
    SSHD_BIN,
    ["-D", "-e", "-f", join(dir, "sshd_config"), "-p", String(port)],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  proc.stderr?.on("data", (d) => {
    stderr += String(d);
  });
  const exited = new Promise((r) => proc.once("exit", r));
  t.after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      await exited;
    }
  });
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host: "127.0.0.1", port, user: "root", privateKey: client.private, hostPublicKey };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
