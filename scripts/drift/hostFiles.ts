/**
 * Reading a file on a node: over SSH (the VMs, the pilot host) or below a local directory (the
 * local rehearsal and the tests, where each node's files live under `<root>/<node>/`).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Client, ConnectConfig, ServerHostKeyAlgorithm } from "ssh2";
import {
  adminPathUnreachable,
  sshFingerprint,
  unreachableAdminPath,
} from "../../components/cluster/adminTunnel";

export interface HostFileReader {
  /** Where the files are read from, for messages: `ssh root@203.0.113.5:22`, a directory. */
  readonly where: string;
  /** The file's bytes, or `undefined` when it does not exist. */
  read(path: string): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

/** Files of node `node` below `root`: `/etc/nats/x` is read from `<root>/<node>/etc/nats/x`. */
export function localRootReader(root: string, node: string): HostFileReader {
  const base = join(root, node);
  return {
    where: base,
    async read(path) {
      try {
        return await readFile(join(base, path));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    },
    async close() {},
  };
}

export interface SshTarget {
  readonly host: string;
  /** Default 22. */
  readonly port?: number;
  /** Default `root`, the user the remote commands log in as. */
  readonly username?: string;
  /** OpenSSH or PEM private key text: the stack's `sshPrivateKey`. */
  readonly privateKey: string;
  /**
   * Host keys accepted for this host (base64 key blobs, as in known_hosts). Empty or absent:
   * any key is accepted — the file read is not secret and key authentication does not expose
   * the private key to a wrong host, but a wrong host could hide drift; pass known_hosts in CI.
   */
  readonly hostKeys?: readonly string[];
  /**
   * Used when `hostKeys` is empty: the node's ed25519 host key as `SHA256:<base64>`, as the node
   * reported it to `pulumi up` (stack output `nodes[].sshHostKey`).
   */
  readonly hostKeySha256?: string;
  /** The pinned key's type, asked for alone with a fingerprint pin (output `nodes[].sshHostKeyType`). */
  readonly hostKeyAlgorithm?: string;
  /** Connect timeout in ms. Default 10000. */
  readonly timeoutMs?: number;
}

/** Exit status the read command uses for "no such file". */
const MISSING = 3;

/** Opens one SSH connection to a node; every read is one `cat` on it. */
export async function sshReader(target: SshTarget): Promise<HostFileReader> {
  const { Client } = await import("ssh2");
  const client = new Client();
  const port = target.port ?? 22;
  const username = target.username ?? "root";
  const where = `ssh ${username}@${target.host}:${port}`;
  const accepted = target.hostKeys ?? [];
  const fingerprint = accepted.length === 0 ? target.hostKeySha256 : undefined;
  const config: ConnectConfig = {
    host: target.host,
    port,
    username,
    privateKey: target.privateKey,
    readyTimeout: target.timeoutMs ?? 10_000,
    // A fingerprint pin asks for its key's type alone (ssh2 would ask for ssh-ed25519 first).
    ...(fingerprint !== undefined && target.hostKeyAlgorithm !== undefined
      ? { algorithms: { serverHostKey: [target.hostKeyAlgorithm as ServerHostKeyAlgorithm] } }
      : {}),
    hostVerifier: (key: Buffer) =>
      fingerprint !== undefined
        ? sshFingerprint(key) === fingerprint
        : accepted.length === 0 || accepted.includes(key.toString("base64")),
  };
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve());
    // `on`: a refused handshake may be followed by a reset; the first error decides.
    client.on("error", (err) =>
      reject(
        new Error(
          adminPathUnreachable(err)
            ? unreachableAdminPath(where, err)
            : `cannot read files on ${target.host} over ${where}: ${err.message}; check the address, the admin firewall rule, the host key (--ssh-known-hosts, else the one the stack pins: output nodes[].sshHostKey) and the SSH key`,
        ),
      ),
    );
    client.connect(config);
  });
  return {
    where,
    read: (path) => sshCat(client, path, where),
    async close() {
      client.end();
    },
  };
}

function sshCat(client: Client, path: string, where: string): Promise<Buffer | undefined> {
  const command = `test -e ${shellQuote(path)} || exit ${MISSING}; cat -- ${shellQuote(path)}`;
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err !== undefined && err !== null) return reject(err);
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      stream.on("data", (d: Buffer) => out.push(d));
      stream.stderr.on("data", (d: Buffer) => errOut.push(d));
      stream.on("close", (code: number | null) => {
        if (code === 0) resolve(Buffer.concat(out));
        else if (code === MISSING) resolve(undefined);
        else
          reject(
            new Error(
              `reading ${path} over ${where} failed (exit ${code}): ${Buffer.concat(errOut).toString().trim()}`,
            ),
          );
      });
    });
  });
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
