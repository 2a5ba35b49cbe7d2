/**
 * Local nats-server processes standing in for the pilot host and the GA VMs. Used by
 * `akira-nats rehearse` and by every integration test, so both exercise the very configs that
 * Pulumi writes to the hosts (rendered by components/cluster/natsConf.ts).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import {
  CLIENT_PORT,
  CLIENT_USER,
  CLUSTER_PORT,
  type HostPort,
  MONITOR_PORT,
  renderNatsConf,
  renderNatsSecrets,
  SECRETS_FILE,
  SYSTEM_USER,
} from "../../components/cluster/natsConf";
import { metaGroupFormed } from "../../components/jetstream/health";
import { StopWaiting, waitFor } from "../../components/jetstream/waitFor";
import { type IssuedCertificate, issueNodeCertificate } from "../../components/tls/certificates";
import { natsServerBin } from "./natsServerBin";

export interface LocalSecrets {
  readonly clientPassword: string;
  readonly systemPassword: string;
  readonly clusterPassword: string;
}

export interface LocalNodeSpec {
  readonly name: string;
  readonly host: string;
  readonly clientPort: number;
  readonly monitorPort: number;
  /** Present for cluster nodes. */
  readonly clusterPort?: number;
}

export { natsServerBin };

/** Fails with the install command when nats-server (`bin`, default {@link natsServerBin}) does not run. */
export function assertNatsServerInstalled(bin = natsServerBin()): string {
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(
      `nats-server does not run (tried "${bin}"): run bin/setup, which installs the lines this project uses, or set NATS_SERVER_BIN to a nats-server binary`,
    );
  }
  return r.stdout.trim();
}

/** A free TCP port on `host`, as the kernel hands it out. */
export async function freePort(host: string): Promise<number> {
  // Below the kernel's ephemeral range: a port the OS hands out for "port 0" is also what it hands
  // to outgoing connections, so one can be taken between this check and nats-server's bind (seen:
  // "bind: address already in use" on a monitor port).
  const [low] = ephemeralPortRange();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * Math.max(1, low - 10_000));
    if (await canListen(host, port)) return port;
  }
  return listenAnyPort(host);
}

/** The kernel's range for outgoing connections' ports (Linux default 32768–60999). */
function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && (low as number) > 10_000)
      return [low as number, high as number];
  } catch {
    // Not Linux, or no /proc: the usual range.
  }
  return [32_768, 60_999];
}

async function canListen(host: string, port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, host);
    await once(server, "listening");
    server.close();
    await once(server, "close");
    return true;
  } catch {
    return false;
  }
}

async function listenAnyPort(host: string): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error(`no port on ${host}`);
  return address.port;
}

export class LocalNatsNode {
  private proc: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  /**
   * Start the server in a process group of its own, not tied to this process: it outlives it and a
   * Ctrl-C in this terminal (`rehearse --keep-running`). Default false: it ends with this process.
   */
  detach = false;

  constructor(
    readonly spec: LocalNodeSpec,
    /** Directory holding nats-server.conf, secrets.conf, the log and the JetStream store. */
    readonly dir: string,
    /** The nats-server binary this node runs. Default: `$NATS_SERVER_BIN`, else the pinned line. */
    readonly bin: string = natsServerBin(),
  ) {}

  get confPath(): string {
    return join(this.dir, "nats-server.conf");
  }
  get logPath(): string {
    return join(this.dir, "nats-server.log");
  }
  get storeDir(): string {
    return join(this.dir, "jetstream");
  }
  /** Client URL without credentials. */
  get url(): string {
    return `nats://${this.spec.host}:${this.spec.clientPort}`;
  }
  get monitorUrl(): string {
    return `http://${this.spec.host}:${this.spec.monitorPort}`;
  }
  get pid(): number | undefined {
    return this.proc?.pid;
  }
  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Writes the rendered configuration pair into {@link dir}. */
  writeConfig(conf: string, secrets: string): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.confPath, conf);
    writeFileSync(join(this.dir, SECRETS_FILE), secrets, { mode: 0o600 });
  }

  /** Starts nats-server and resolves once its monitoring endpoint answers. */
  async start(timeoutMs = 15_000): Promise<void> {
    if (this.running) return;
    const log = openSync(this.logPath, "a");
    const proc = spawn(this.bin, ["-c", this.confPath], {
      stdio: ["ignore", log, log],
      detached: this.detach,
    });
    if (this.detach) proc.unref();
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
    // A missing binary is reported by waitFor below, not as an unhandled 'error' event.
    const spawnFailed = new Promise<Error>((resolve) => proc.once("error", resolve));
    const failure = await Promise.race([
      spawnFailed,
      new Promise<undefined>((r) => setImmediate(() => r(undefined))),
    ]);
    if (failure !== undefined) {
      throw new Error(
        `nats-server ${this.spec.name} could not start "${this.bin}": ${failure.message}; run bin/setup or set NATS_SERVER_BIN to a nats-server binary`,
      );
    }
    await this.waitFor("/healthz?js-enabled-only=true", timeoutMs);
  }

  /** Resolves when the full `/healthz` is ok: JetStream current, this server's streams caught up. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await this.waitFor("/healthz", timeoutMs);
  }

  /** SIGTERM (or `signal`) and wait for the exit. Idempotent. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (!this.running || this.proc === undefined) return;
    this.proc.kill(signal);
    await this.exited;
  }

  /** An unplanned failure: SIGKILL, no goodbye to the cluster. */
  async kill(): Promise<void> {
    await this.stop("SIGKILL");
  }

  /** Lame-duck mode (`nats-server --signal ldm=<pid>`): clients are moved off, then it exits. */
  lameDuck(): void {
    if (this.pid === undefined) throw new Error(`${this.spec.name} is not running`);
    spawnSync(this.bin, ["--signal", `ldm=${this.pid}`]);
  }

  /** Resolves when the process has exited (after a lame-duck, say). */
  async waitExit(): Promise<void> {
    if (this.running) await this.exited;
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(this.logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  private async waitFor(path: string, timeoutMs: number): Promise<void> {
    let last = "no answer";
    const ok = async () => {
      if (this.proc !== undefined && !this.running) {
        throw new StopWaiting(
          `nats-server ${this.spec.name} exited with ${this.proc.exitCode ?? this.proc.signalCode}:\n${this.logTail()}`,
        );
      }
      try {
        const res = await fetch(`${this.monitorUrl}${path}`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return true;
        last = await res.text();
      } catch (err) {
        last = (err as Error).message;
      }
      return undefined;
    };
    await waitFor(ok, { timeoutMs, what: `${this.spec.name} ${path}` }).catch((err: Error) => {
      if (err instanceof StopWaiting) throw new Error(err.message);
      throw new Error(`nats-server ${this.spec.name}: ${path} not ok after ${timeoutMs} ms (${last})`);
    });
  }
}

export interface LocalDeployment {
  readonly nodes: readonly LocalNatsNode[];
  readonly secrets: LocalSecrets;
  /** Comma-separated client URLs without credentials, as applications get them (`tls://` with TLS). */
  readonly servers: string;
  /** The authority's certificate clients trust, when the nodes run client TLS. */
  readonly caCertificate?: string;
  readonly user: string;
  readonly systemUser: string;
  /** Starts every node (in parallel: a cluster needs its peers to elect a meta leader). */
  start(): Promise<void>;
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node that is still running. */
  stop(): Promise<void>;
}

/** Client TLS for local nodes: certificates from `authority`, exactly as the GA nodes get theirs. */
export interface LocalTls {
  readonly authority: IssuedCertificate;
  /** Accept plain clients too (the pilot's transition setting). Default false. */
  readonly allowNonTls?: boolean;
}

/** Issues `spec`'s certificate into `<dir>/tls/` and returns the conf's `tls` settings. */
function localNodeTls(tls: LocalTls, spec: LocalNodeSpec, dir: string) {
  const cert = issueNodeCertificate({
    authority: tls.authority,
    commonName: spec.name,
    ips: [...new Set([spec.host, "127.0.0.1"])],
    validityDays: 30,
  });
  mkdirSync(join(dir, "tls"), { recursive: true });
  writeFileSync(join(dir, "tls", "cert.pem"), cert.certificate);
  writeFileSync(join(dir, "tls", "key.pem"), cert.privateKey, { mode: 0o600 });
  return {
    certFile: join(dir, "tls", "cert.pem"),
    keyFile: join(dir, "tls", "key.pem"),
    allowNonTls: tls.allowNonTls ?? false,
  };
}

export interface LocalClusterOptions {
  /** Parent directory; each node gets `<dir>/<name>`. */
  readonly dir: string;
  readonly clusterName?: string;
  /** One loopback address per node. Default 127.0.0.2–127.0.0.4, as the VMs' three. */
  readonly hosts?: readonly string[];
  /** `vm`: 4222/6222/8222 on every address, exactly as the VMs. `random` (default): free ports. */
  readonly ports?: "vm" | "random";
  readonly secrets: LocalSecrets;
  /** Node names. Default `nats-1` … `nats-N`. */
  readonly names?: readonly string[];
  readonly maxFileStoreBytes?: number;
  /** The nats-server binary the nodes run. Default: `$NATS_SERVER_BIN`, else the pinned line. */
  readonly natsServerBin?: string;
  /** Client TLS. Default: plain. */
  readonly tls?: LocalTls;
}

async function nodePorts(host: string, mode: "vm" | "random", clustered: boolean) {
  if (mode === "vm") return { clientPort: CLIENT_PORT, monitorPort: MONITOR_PORT, clusterPort: CLUSTER_PORT };
  return {
    clientPort: await freePort(host),
    monitorPort: await freePort(host),
    clusterPort: clustered ? await freePort(host) : undefined,
  };
}

/** Renders and writes the configs of a local N-node cluster, GA-style; call `start()` to run it. */
export async function createLocalCluster(opts: LocalClusterOptions): Promise<LocalDeployment> {
  const hosts = opts.hosts ?? ["127.0.0.2", "127.0.0.3", "127.0.0.4"];
  const specs: LocalNodeSpec[] = [];
  for (const [i, host] of hosts.entries()) {
    const ports = await nodePorts(host, opts.ports ?? "random", true);
    specs.push({ name: opts.names?.[i] ?? `nats-${i + 1}`, host, ...ports });
  }
  const peers: HostPort[] = specs.map((s) => ({ host: s.host, port: s.clusterPort ?? CLUSTER_PORT }));
  const nodes = specs.map((spec) => {
    const node = new LocalNatsNode(spec, join(opts.dir, spec.name), opts.natsServerBin);
    node.writeConfig(
      renderNatsConf({
        serverName: spec.name,
        clientHost: spec.host,
        clientPort: spec.clientPort,
        clientAdvertise: `${spec.host}:${spec.clientPort}`,
        monitor: { host: spec.host, port: spec.monitorPort },
        storeDir: node.storeDir,
        maxFileStoreBytes: opts.maxFileStoreBytes ?? 4 * 1024 ** 3,
        cluster: { name: opts.clusterName ?? "akira-ga", host: spec.host, port: spec.clusterPort, peers },
        ...(opts.tls === undefined ? {} : { tls: localNodeTls(opts.tls, spec, node.dir) }),
      }),
      renderNatsSecrets({
        clientPassword: opts.secrets.clientPassword,
        systemPassword: opts.secrets.systemPassword,
        clusterPassword: opts.secrets.clusterPassword,
        routes: peers,
      }),
    );
    return node;
  });
  return deployment(nodes, opts.secrets, opts.tls);
}

export interface LocalPilotOptions {
  readonly dir: string;
  readonly host?: string;
  readonly ports?: "vm" | "random";
  readonly secrets: LocalSecrets;
  readonly name?: string;
  readonly maxFileStoreBytes?: number;
  /** The nats-server binary the pilot runs. Default: `$NATS_SERVER_BIN`, else the pinned line. */
  readonly natsServerBin?: string;
  /** Client TLS. Default: plain, as the pilot runs. */
  readonly tls?: LocalTls;
}

/** Renders and writes the single-node pilot's config, staging-style; call `start()` to run it. */
export async function createLocalPilot(opts: LocalPilotOptions): Promise<LocalDeployment> {
  const host = opts.host ?? "127.0.0.1";
  const spec: LocalNodeSpec = {
    name: opts.name ?? "akira-cache-01-staging",
    host,
    ...(await nodePorts(host, opts.ports ?? "random", false)),
  };
  const node = new LocalNatsNode(spec, join(opts.dir, spec.name), opts.natsServerBin);
  node.writeConfig(
    renderNatsConf({
      serverName: spec.name,
      clientHost: host,
      clientPort: spec.clientPort,
      monitor: { host, port: spec.monitorPort },
      storeDir: node.storeDir,
      maxFileStoreBytes: opts.maxFileStoreBytes ?? 4 * 1024 ** 3,
      ...(opts.tls === undefined ? {} : { tls: localNodeTls(opts.tls, spec, node.dir) }),
    }),
    renderNatsSecrets({
      clientPassword: opts.secrets.clientPassword,
      systemPassword: opts.secrets.systemPassword,
    }),
  );
  return deployment([node], opts.secrets, opts.tls);
}

function deployment(nodes: LocalNatsNode[], secrets: LocalSecrets, tls?: LocalTls): LocalDeployment {
  const scheme = tls === undefined || tls.allowNonTls === true ? "nats" : "tls";
  return {
    nodes,
    secrets,
    servers: nodes.map((n) => n.url.replace(/^nats:/, `${scheme}:`)).join(","),
    ...(tls === undefined ? {} : { caCertificate: tls.authority.certificate }),
    user: CLIENT_USER,
    systemUser: SYSTEM_USER,
    async start() {
      await Promise.all(nodes.map((n) => n.start()));
    },
    async waitHealthy(timeoutMs = 30_000) {
      await Promise.all(nodes.map((n) => n.waitHealthy(timeoutMs)));
      // Every /healthz ok is not yet "every peer usable": on 2.15 the meta leader can still flag a
      // peer offline for a moment, and a replica placed then fails with 10005 (peer offline).
      if (nodes.length > 1) await waitMetaGroupFormed(nodes, timeoutMs);
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

interface MetaClusterJsz {
  readonly meta_cluster?: {
    readonly leader?: string;
    readonly replicas?: readonly { readonly current: boolean; readonly offline?: boolean }[];
  };
}

/** Resolves once the meta leader sees every other node online and current. */
async function waitMetaGroupFormed(nodes: readonly LocalNatsNode[], timeoutMs: number): Promise<void> {
  const seen = new Map<string, string>();
  const formed = async (n: LocalNatsNode) => {
    const res = await fetch(`${n.monitorUrl}/jsz?leader-only=true`, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) {
      seen.set(n.spec.name, `not the leader (${res.status})`);
      return false;
    }
    const replicas = ((await res.json()) as MetaClusterJsz).meta_cluster?.replicas ?? [];
    seen.set(
      n.spec.name,
      `leader; peers ${replicas.map((r) => `${r.current ? "current" : "behind"}${r.offline ? " offline" : ""}`).join(", ") || "none"}`,
    );
    return metaGroupFormed(replicas, nodes.length);
  };
  await waitFor(
    async () => {
      // Any node may lead, and a node may run outside this process (tests start some by shell).
      for (const n of nodes) {
        const ok = await formed(n).catch((err: Error) => {
          seen.set(n.spec.name, err.message);
          return false;
        });
        if (ok) return true;
      }
      return undefined;
    },
    {
      timeoutMs,
      what: () =>
        `the JetStream meta group of ${nodes.map((n) => n.spec.name).join(", ")} formed (last seen: ${[...seen].map(([k, v]) => `${k} ${v}`).join("; ")})`,
    },
  );
}

/** Random passwords for a throwaway deployment. */
export function randomSecrets(): LocalSecrets {
  const r = () => `${crypto.randomUUID().replaceAll("-", "")}`;
  return { clientPassword: r(), systemPassword: r(), clusterPassword: r() };
}
