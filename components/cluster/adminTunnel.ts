/**
 * The admin path from wherever `pulumi up` runs to the GA cluster: an SSH local port-forward
 * through one node, logged in with the same key as the remote commands. NATS credentials then only
 * travel inside SSH over the internet; the client port behind it stays on the private network.
 */

import { createHash } from "node:crypto";
import { once } from "node:events";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import type { ServerHostKeyAlgorithm } from "ssh2";
import { AkiraNatsError } from "../jetstream/errors";

/** Where the tunnel goes: a NATS client address as the SSH node sees it. */
export interface TunnelTarget {
  readonly host: string;
  readonly port: number;
}

export interface AdminTunnelOptions {
  /** The SSH node (a GA node's public address). */
  readonly sshHost: string;
  /** Default 22. */
  readonly sshPort?: number;
  /** Default `root`. */
  readonly sshUser?: string;
  /** OpenSSH or PEM private key text (the stack's `sshPrivateKey`). */
  readonly privateKey: string;
  /**
   * The node's ed25519 host key as `SHA256:<base64>` (what `ssh-keygen -lf` prints), as its config
   * command reported it. When set, any other key is refused. Default: accept the key the node presents.
   */
  readonly hostKeySha256?: string;
  /** The pinned key's type (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`): only it is asked for. */
  readonly hostKeyAlgorithm?: string;
  /** NATS addresses to forward, reached from the SSH node. Each gets its own local port. */
  readonly targets: readonly TunnelTarget[];
  /** Default 10000. */
  readonly readyTimeoutMs?: number;
}

export interface AdminTunnel {
  /** One `nats://127.0.0.1:<port>` per target, in order. */
  readonly urls: readonly string[];
  close(): Promise<void>;
}

/** `nats://host:port` (user info and path ignored) → target. */
export function targetFromUrl(url: string): TunnelTarget {
  const m = /^(?:nats|tls):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?/.exec(url.trim());
  if (m === null) throw new AkiraNatsError("bad-url", `not a NATS URL: ${url} (want nats://host:port)`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ""), port: m[2] === undefined ? 4222 : Number(m[2]) };
}

/** Fingerprint of an SSH public key blob in the `ssh-keygen -l` form. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** An SSH connection that never got as far as a handshake: nothing answers on the admin path. */
export function adminPathUnreachable(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  return (
    ["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"].includes(e?.code ?? "") ||
    /Timed out while waiting for handshake/.test(e?.message ?? "")
  );
}

/** Why the admin path cannot be reached from here, and where to run from instead. */
export function unreachableAdminPath(where: string, err: Error): string {
  return `cannot reach ${where} (${err.message}): that is the admin path, SSH on the node, open only to the stack's adminCidrs. Run this from a machine inside adminCidrs (the drift job: a runner inside them, docs/ci-drift.md), or through a bastion (--tunnel-via)`;
}

/** ssh2's algorithm names for a key type (an RSA key signs with SHA-2 algorithms of its own names). */
function hostKeyAlgorithms(keyType: string): ServerHostKeyAlgorithm[] {
  return (
    keyType === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [keyType]
  ) as ServerHostKeyAlgorithm[];
}

export async function openAdminTunnel(opts: AdminTunnelOptions): Promise<AdminTunnel> {
  const { Client } = await import("ssh2");
  const ssh = new Client();
  const where = `${opts.sshUser ?? "root"}@${opts.sshHost}:${opts.sshPort ?? 22}`;
  let hostKeyMismatch: string | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    ssh.once("ready", () => resolve());
    // `on`, not `once`: a refused handshake can be followed by a second error (the peer's reset),
    // and an 'error' event without a listener would crash the process. The first one decides.
    ssh.on("error", (err) => reject(err));
  });
  ssh.connect({
    host: opts.sshHost,
    port: opts.sshPort ?? 22,
    username: opts.sshUser ?? "root",
    privateKey: opts.privateKey,
    readyTimeout: opts.readyTimeoutMs ?? 10_000,
    // With a pinned key, only its algorithm is asked for: a host with several keys then offers
    // the pinned one instead of whichever its own preference picks.
    ...(opts.hostKeyAlgorithm === undefined
      ? {}
      : { algorithms: { serverHostKey: hostKeyAlgorithms(opts.hostKeyAlgorithm) } }),
    hostVerifier: (key: Buffer) => {
      if (opts.hostKeySha256 === undefined) return true;
      const seen = sshFingerprint(key);
      if (seen === opts.hostKeySha256) return true;
      hostKeyMismatch = seen;
      return false;
    },
  });
  try {
    await ready;
  } catch (err) {
    ssh.end();
    if (hostKeyMismatch !== undefined) {
      throw new AkiraNatsError(
        "tunnel",
        `cannot open the admin tunnel through ${where}: host key ${hostKeyMismatch} is not the pinned ${opts.hostKeySha256} (the host key pinned in the stack: a GA node's generated key, the pilot's pilotHostKey): nothing was sent. If the host was rebuilt or its keys replaced outside Pulumi, check its key on its console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and update the stack (docs/stacks.md, "Host keys"); otherwise treat the connection as intercepted`,
        { cause: err },
      );
    }
    if (opts.hostKeyAlgorithm !== undefined && /no matching host key format/i.test((err as Error).message)) {
      throw new AkiraNatsError(
        "tunnel",
        `cannot open the admin tunnel through ${where}: the host offers no ${opts.hostKeyAlgorithm} host key, the type of the key pinned in the stack: nothing was sent. Pin the key it has (ssh-keyscan ${opts.sshHost}, checked with ssh-keygen -lf on its console)`,
        { cause: err },
      );
    }
    if (adminPathUnreachable(err)) {
      throw new AkiraNatsError("tunnel", unreachableAdminPath(where, err as Error), { cause: err });
    }
    throw new AkiraNatsError(
      "tunnel",
      `cannot open the admin tunnel through ${where}: ${(err as Error).message}: check adminCidrs allows this machine, the node runs sshd, and sshPrivateKey matches the key on the node`,
      { cause: err },
    );
  }

  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  for (const target of opts.targets) {
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      ssh.forwardOut("127.0.0.1", socket.localPort ?? 0, target.host, target.port, (err, channel) => {
        if (err) {
          socket.destroy();
          return;
        }
        socket.pipe(channel).pipe(socket);
        channel.once("close", () => socket.destroy());
        socket.once("error", () => channel.close());
      });
    });
    // Loopback only: the forwarded port must not become a path into the cluster for others.
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    servers.push(server);
  }
  const urls = servers.map((s) => `nats://127.0.0.1:${(s.address() as AddressInfo).port}`);
  return {
    urls,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
      ssh.end();
    },
  };
}
