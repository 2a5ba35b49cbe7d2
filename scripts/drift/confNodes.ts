/**
 * Which nodes the conf check reads, and how: `--conf-root` (local files), `--ssh-host` (explicit
 * addresses), or the stack's `nodes` output. Also where the expected (rendered) confs come from.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ConfNode } from "./confDrift";
import { type HostFileReader, localRootReader, sshReader } from "./hostFiles";

export class DriftUsageError extends Error {
  override name = "DriftUsageError";
}

export interface SshHost {
  readonly name: string;
  readonly host: string;
  readonly port?: number;
  /** SHA-256 of the conf the stack gives this node (output `nodes[].confSha256`), when known. */
  readonly confSha256?: string;
  /** The node's reported ed25519 host key, `SHA256:<base64>` (output `nodes[].sshHostKey`), when known. */
  readonly hostKeySha256?: string;
  /** That key's type (output `nodes[].sshHostKeyType`): asked for alone, so the host offers it. */
  readonly hostKeyAlgorithm?: string;
}

/** Parses `name=host[:port],…` (IPv6 in brackets: `name=[2001:db8::1]:22`). */
export function parseSshHosts(text: string): SshHost[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((entry) => {
      const m = /^([^=\s]+)=(\[[^\]]+\]|[^:\s]+)(?::(\d+))?$/.exec(entry);
      if (m === null || m[1] === undefined || m[2] === undefined) {
        throw new DriftUsageError(
          `--ssh-host entry "${entry}" is not name=host[:port], e.g. akira-ga-1=203.0.113.10`,
        );
      }
      const host = m[2].replace(/^\[|\]$/g, "");
      return m[3] === undefined ? { name: m[1], host } : { name: m[1], host, port: Number(m[3]) };
    });
}

/**
 * Node names, SSH addresses and conf checksums from the stack outputs: the output `nodes`, a
 * list of `{ name, address, sshHost, confSha256 }` (index.ts). Undefined when the stack exports none.
 */
export function sshHostsFromOutputs(outputs: Readonly<Record<string, unknown>>): SshHost[] | undefined {
  const nodes = outputs.nodes;
  if (!Array.isArray(nodes)) return undefined;
  const hosts: SshHost[] = [];
  for (const n of nodes as Record<string, unknown>[]) {
    // `sshHost` is what index.ts exports; `address` is the private (client) address, last resort.
    const address = n.sshHost ?? n.publicIp ?? n.ipv4Address ?? n.host ?? n.address;
    if (typeof n.name !== "string" || typeof address !== "string") continue;
    const sha = typeof n.confSha256 === "string" ? { confSha256: n.confSha256 } : {};
    const hostKey = typeof n.sshHostKey === "string" ? { hostKeySha256: n.sshHostKey } : {};
    const keyType = typeof n.sshHostKeyType === "string" ? { hostKeyAlgorithm: n.sshHostKeyType } : {};
    hosts.push({ name: n.name, host: address, ...sha, ...hostKey, ...keyType });
  }
  return hosts.length > 0 ? hosts : undefined;
}

/** Reads `<dir>/<node>.conf`, the conf the program renders for that node; undefined when absent. */
export async function expectedConfFrom(dir: string | undefined, node: string): Promise<string | undefined> {
  if (dir === undefined) return undefined;
  try {
    return await readFile(join(dir, `${node}.conf`), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

export interface SshCredentials {
  readonly username?: string;
  readonly privateKey: string;
  /**
   * known_hosts text; when set, each node must present a key it lists for that node. Without it,
   * a node must present the host key it reported to `pulumi up`, when the stack output has one.
   */
  readonly knownHosts?: string;
  readonly timeoutMs?: number;
}

/**
 * Opens a reader per node; on a failure closes the ones already open and rethrows. The expected
 * conf of a node is its file in `expectedDir` when there is one, else the checksum in `expectedSha`.
 */
export async function openConfNodes(
  names: readonly string[],
  open: (name: string) => Promise<HostFileReader>,
  expectedDir: string | undefined,
  expectedSha: Readonly<Record<string, string | undefined>> = {},
): Promise<ConfNode[]> {
  const nodes: ConfNode[] = [];
  try {
    for (const name of names) {
      const reader = await open(name);
      const expectedConf = await expectedConfFrom(expectedDir, name);
      const expectedSha256 = expectedSha[name];
      nodes.push(
        expectedConf !== undefined
          ? { name, reader, expectedConf }
          : expectedSha256 !== undefined
            ? { name, reader, expectedSha256 }
            : { name, reader },
      );
    }
    return nodes;
  } catch (err) {
    await Promise.all(nodes.map((n) => n.reader.close()));
    throw err;
  }
}

export function localOpener(root: string): (name: string) => Promise<HostFileReader> {
  return async (name) => localRootReader(root, name);
}

export function sshOpener(
  hosts: readonly SshHost[],
  creds: SshCredentials,
): (name: string) => Promise<HostFileReader> {
  return async (name) => {
    const h = hosts.find((x) => x.name === name);
    if (h === undefined) throw new DriftUsageError(`no SSH address for node ${name}`);
    const port = h.port ?? 22;
    const { knownHosts, ...rest } = creds;
    const pin =
      knownHosts !== undefined
        ? { hostKeys: pinnedKeys(knownHosts, h.host, port) }
        : h.hostKeySha256 !== undefined
          ? {
              hostKeySha256: h.hostKeySha256,
              ...(h.hostKeyAlgorithm === undefined ? {} : { hostKeyAlgorithm: h.hostKeyAlgorithm }),
            }
          : {};
    return sshReader({ ...rest, host: h.host, port, ...pin });
  };
}

/**
 * The key blobs with the ed25519 ones first: ssh2 asks a server for ed25519 before other types, so
 * a single-fingerprint pin (the admin tunnel's) must be of that key when the host has one.
 */
export function ed25519First(blobs: readonly string[]): string[] {
  const isEd25519 = (b64: string) => {
    const blob = Buffer.from(b64, "base64");
    return blob.length > 4 && blob.subarray(4, 4 + blob.readUInt32BE(0)).toString() === "ssh-ed25519";
  };
  return [...blobs.filter(isEd25519), ...blobs.filter((b) => !isEd25519(b))];
}

/** Keys pinned for a host; a known_hosts file that does not list the host at all is a usage error. */
export function pinnedKeys(knownHosts: string, host: string, port: number): string[] {
  const keys = hostKeysFromKnownHosts(knownHosts, host, port);
  if (keys.length === 0) {
    const name = port === 22 ? host : `[${host}]:${port}`;
    throw new DriftUsageError(
      `--ssh-known-hosts lists no key for ${name}: add it (ssh-keyscan -p ${port} ${host}) or leave the option out`,
    );
  }
  return keys;
}

/**
 * The base64 key blobs that a known_hosts text lists for `host` (port 22: `host`, other ports:
 * `[host]:port`, as OpenSSH writes them). Hashed host names (`|1|…`) are not matched.
 */
export function hostKeysFromKnownHosts(text: string, host: string, port = 22): string[] {
  const wanted = port === 22 ? host : `[${host}]:${port}`;
  const keys: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    if (fields[0]?.startsWith("@")) continue; // @cert-authority / @revoked: not for pinning
    const [hosts, , blob] = fields;
    if (hosts !== undefined && blob !== undefined && hosts.split(",").includes(wanted)) keys.push(blob);
  }
  return keys;
}
