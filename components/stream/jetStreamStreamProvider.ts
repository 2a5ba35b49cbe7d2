/**
 * The JetStream stream provider's logic. The serialized shell in jetStreamStream.ts loads this
 * module inside each method (in the dynamic-provider host, from its absolute path), so nothing here
 * is frozen into `__provider` and credentials are read at run time only: from the stack config
 * passed to `configure()`, or from the environment.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { NatsConnection } from "nats";
import { openAdminTunnel, targetFromUrl } from "../cluster/adminTunnel";
import { connectNats, serverList } from "../jetstream/connection";
import { AkiraNatsError } from "../jetstream/errors";
import { replicaCurrent } from "../jetstream/health";
import { jsApiRequest } from "../jetstream/jsApiRequest";
import { changeReplicas } from "../jetstream/replicas";
import { MAX_REPLICAS, streamNameProblem, validReplicas } from "../jetstream/streamRules";
import {
  createStream,
  DECLARED_FIELDS,
  type DeclaredStreamSettings,
  declaredFromConfig,
  diffDeclared,
  findStream,
  type StreamSnapshot,
  updateStream,
} from "../jetstream/streams";
import { holdsUnknown } from "../provider/previewUnknowns";

/** The admin tunnel's settings in state (the key itself is read at run time, never stored). */
export interface AdminTunnelInputs {
  readonly sshHost: string;
  readonly sshPort?: number;
  readonly sshUser?: string;
  readonly hostKeySha256?: string;
  readonly hostKeyAlgorithm?: string;
}

/** The resolved inputs, as the provider methods receive them. No secret is ever among them. */
export interface StreamInputs extends DeclaredStreamSettings {
  readonly streamName: string;
  readonly replicas: number;
  readonly subjects: readonly string[];
  readonly servers: readonly string[];
  /** The client-TLS authority of the servers (PEM, public); absent for plain servers. */
  readonly tlsCa?: string;
  readonly user?: string;
  readonly systemUser?: string;
  readonly account?: string;
  readonly createIfMissing?: boolean;
  readonly keepPeerOnScaleDown?: string;
  readonly allowRecreate?: boolean;
  readonly allowDelete?: boolean;
  readonly timeoutSeconds?: number;
  readonly connectTimeoutSeconds?: number;
  readonly adminTunnel?: AdminTunnelInputs;
}

/** The resolved outputs: the inputs with declared fields as the server has them, plus live state. */
export interface StreamOutputs extends StreamInputs {
  readonly leader: string;
  /** Servers holding a copy, leader first. */
  readonly peers: readonly string[];
  readonly messages: number;
  readonly bytes: number;
  readonly lastSeq: number;
  /** True when every follower was current with zero lag at the last read. */
  readonly replicasCurrent: boolean;
}

export interface Credentials {
  readonly clientPassword?: string;
  readonly systemPassword?: string;
  readonly sshPrivateKey?: string;
}

type ConfigGet = (key: string) => string | undefined;

/**
 * Where credentials come from, in order, the first set value winning: the client password from
 * AKIRA_NATS_PASSWORD, akira-nats:clientPassword, NATS_PASSWORD; the system password from
 * AKIRA_NATS_SYSTEM_PASSWORD, akira-nats:systemPassword; the SSH key from
 * AKIRA_NATS_SSH_PRIVATE_KEY, akira-nats:sshPrivateKey.
 */
export function resolveCredentials(env: NodeJS.ProcessEnv, config: ConfigGet | undefined): Credentials {
  const cfg = (k: string) => config?.(`akira-nats:${k}`);
  return {
    clientPassword: env.AKIRA_NATS_PASSWORD || cfg("clientPassword") || env.NATS_PASSWORD || undefined,
    systemPassword: env.AKIRA_NATS_SYSTEM_PASSWORD || cfg("systemPassword") || undefined,
    sshPrivateKey: env.AKIRA_NATS_SSH_PRIVATE_KEY || cfg("sshPrivateKey") || undefined,
  };
}

export interface ProviderDeps {
  /** Progress and notices. Default `console.log` (passed through to `pulumi up` since Pulumi 3.146, pulumi#18253). */
  readonly log?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * TLS for the servers: required when the stack's nodes serve it (a CA is given, or the URLs are
 * `tls://`; through the tunnel the forwarded URLs are plain `nats://127.0.0.1:<port>`, so the CA
 * alone says TLS). The node certificates name 127.0.0.1 for exactly this forward.
 */
function tlsOf(inputs: StreamInputs): { tls?: { ca: string } } {
  return inputs.tlsCa === undefined ? {} : { tls: { ca: inputs.tlsCa } };
}

/** Input problems, one per property, for `check`. */
export function checkInputs(news: Partial<StreamInputs>): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  if (typeof news.streamName !== "string" || streamNameProblem(news.streamName) !== undefined) {
    fail("streamName", "a stream name without spaces, dots, *, >, / or \\ is required (e.g. AKIRA_CDR)");
  }
  if (!validReplicas(news.replicas)) {
    fail(
      "replicas",
      `an integer from 1 to ${MAX_REPLICAS} is required, got ${JSON.stringify(news.replicas)}`,
    );
  }
  if (!Array.isArray(news.subjects) || news.subjects.length === 0) {
    fail("subjects", 'at least one subject is required (e.g. ["akira.cdr.>"])');
  }
  const servers = Array.isArray(news.servers) ? news.servers : [];
  if (servers.length === 0) fail("servers", "at least one NATS URL is required (e.g. nats://10.0.1.11:4222)");
  if (servers.some((s) => /\/\/[^/]*@/.test(s))) {
    fail(
      "servers",
      "URLs must not carry credentials: set akira-nats:clientPassword (or AKIRA_NATS_PASSWORD)",
    );
  }
  for (const k of ["timeoutSeconds", "connectTimeoutSeconds"] as const) {
    const v = news[k];
    if (v !== undefined && !(typeof v === "number" && v > 0))
      fail(k, `a positive number of seconds, got ${v}`);
  }
  return failures;
}

export function declaredOf(inputs: StreamInputs): DeclaredStreamSettings {
  const out: Record<string, unknown> = {};
  for (const f of DECLARED_FIELDS) if (inputs[f] !== undefined) out[f] = inputs[f];
  return out as DeclaredStreamSettings;
}

/** Inputs plus what the server reports; declared fields take the live value so drift shows. */
export function toOutputs(inputs: StreamInputs, snap: StreamSnapshot): StreamOutputs {
  const live = declaredFromConfig(snap.config);
  const declaredLive: Record<string, unknown> = {};
  for (const f of DECLARED_FIELDS) if (inputs[f] !== undefined || f === "replicas") declaredLive[f] = live[f];
  const followers = snap.cluster?.replicas ?? [];
  const leader = snap.cluster?.leader ?? "";
  return {
    ...inputs,
    ...(declaredLive as Partial<StreamInputs>),
    streamName: snap.config.name,
    replicas: live.replicas,
    subjects: live.subjects,
    leader,
    peers: [leader, ...followers.map((r) => r.name)].filter((p) => p !== ""),
    messages: snap.state.messages,
    bytes: snap.state.bytes,
    lastSeq: snap.state.lastSeq,
    replicasCurrent: followers.every((r) => replicaCurrent(r)),
  };
}

/** The fields whose change needs the stream recreated (and so its data deleted). */
const RECREATE_FIELDS = ["streamName", "storage"] as const;

export function missingStreamMessage(stream: string, servers: readonly string[]): string {
  return `stream ${stream} does not exist on ${servers.join(", ")}: restore it from the pilot backup first (akira-nats stream restore <dir>, or run the cutover: akira-nats cutover), or set createIfMissing: true to create it empty`;
}

export function vanishedStreamMessage(stream: string, servers: readonly string[]): string {
  return `stream ${stream} has vanished from ${servers.join(", ")}: it is not recreated empty; restore it from its latest backup (akira-nats stream restore <dir>), or if it is gone on purpose remove it from the stack state (pulumi state delete <urn>)`;
}

/** The provider's methods, with credentials and logging injected. */
export function createStreamProvider(deps: ProviderDeps = {}) {
  const log = deps.log ?? ((line: string) => console.log(line));
  const env = deps.env ?? process.env;
  let config: ConfigGet | undefined;

  async function withNats<T>(
    inputs: StreamInputs,
    fn: (c: { nc: NatsConnection; sys?: NatsConnection; shown: string[] }) => Promise<T>,
  ): Promise<T> {
    const creds = resolveCredentials(env, config);
    const timeoutMs = (inputs.connectTimeoutSeconds ?? 10) * 1000;
    let servers = serverList(inputs.servers);
    let tunnel: Awaited<ReturnType<typeof openAdminTunnel>> | undefined;
    if (inputs.adminTunnel !== undefined) {
      if (creds.sshPrivateKey === undefined) {
        throw new AkiraNatsError(
          "ssh-key",
          `the admin tunnel through ${inputs.adminTunnel.sshHost} needs the SSH key: pulumi config set --secret akira-nats:sshPrivateKey < key (or AKIRA_NATS_SSH_PRIVATE_KEY)`,
        );
      }
      tunnel = await openAdminTunnel({
        ...inputs.adminTunnel,
        privateKey: creds.sshPrivateKey,
        targets: servers.map(targetFromUrl),
        readyTimeoutMs: timeoutMs,
      });
      servers = [...tunnel.urls];
    }
    const connections: NatsConnection[] = [];
    try {
      const nc = await connectNats({
        servers,
        user: inputs.user ?? "akira",
        password: creds.clientPassword,
        timeoutMs,
        name: `akira-nats-pulumi ${inputs.streamName}`,
        ...tlsOf(inputs),
      });
      connections.push(nc);
      let sys: NatsConnection | undefined;
      if (creds.systemPassword !== undefined) {
        sys = await connectNats({
          servers,
          user: inputs.systemUser ?? "system",
          password: creds.systemPassword,
          timeoutMs,
          ...tlsOf(inputs),
        });
        connections.push(sys);
      }
      return await fn({ nc, sys, shown: serverList(inputs.servers) });
    } finally {
      await Promise.all(connections.map((c) => c.close().catch(() => {})));
      await tunnel?.close();
    }
  }

  async function converge(
    c: { nc: NatsConnection; sys?: NatsConnection },
    inputs: StreamInputs,
    live: StreamSnapshot,
  ): Promise<StreamSnapshot> {
    const name = inputs.streamName;
    const changes = diffDeclared(declaredOf(inputs), declaredFromConfig(live.config));
    const limits = changes.filter((ch) => ch.field !== "replicas");
    let snap = live;
    if (limits.length > 0) {
      log(
        `${name}: updating ${limits.map((ch) => `${ch.field} ${JSON.stringify(ch.live)}→${JSON.stringify(ch.declared)}`).join(", ")}`,
      );
      const { replicas: _keep, ...declared } = declaredOf(inputs);
      snap = await updateStream(c.nc, name, declared);
    }
    if (snap.config.num_replicas !== inputs.replicas) {
      if (c.sys === undefined) {
        log(
          `${name}: no system password (akira-nats:systemPassword): the peer preflight and per-server copy check are skipped`,
        );
      }
      const result = await changeReplicas(c.nc, name, inputs.replicas, {
        timeoutMs: (inputs.timeoutSeconds ?? 600) * 1000,
        keepPeer: inputs.keepPeerOnScaleDown,
        systemConnection: c.sys,
        account: inputs.account,
        onProgress: (p) => log(p.message),
      });
      snap = result.snapshot;
    }
    return snap;
  }

  return {
    async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
      config = (key) => req.config.get(key);
    },

    async check(_olds: StreamInputs, news: StreamInputs): Promise<pulumi.dynamic.CheckResult<StreamInputs>> {
      // A property still unknown at preview is judged at `up`, when it is known.
      const failures = checkInputs(news).filter((f) => !holdsUnknown(news[f.property as keyof StreamInputs]));
      return { inputs: news, failures };
    },

    async diff(_id: string, olds: StreamOutputs, news: StreamInputs): Promise<pulumi.dynamic.DiffResult> {
      const recreate = RECREATE_FIELDS.filter((f) => news[f] !== undefined && olds[f] !== news[f]);
      if (recreate.length > 0 && !news.allowRecreate) {
        const what = recreate
          .map((f) => `${f} ${JSON.stringify(olds[f])}→${JSON.stringify(news[f])}`)
          .join(", ");
        throw new AkiraNatsError(
          "recreate-refused",
          `${olds.streamName}: changing ${what} needs the stream recreated, which deletes its ${olds.messages ?? "?"} messages: back it up (akira-nats stream backup), then set allowRecreate: true (and allowDelete: true to drop the old copy), or revert the change`,
        );
      }
      const keys = Object.keys({ ...olds, ...news }).filter(
        (k) =>
          !["leader", "peers", "messages", "bytes", "lastSeq", "replicasCurrent", "__provider"].includes(k),
      ) as (keyof StreamInputs)[];
      const changed = keys.filter(
        (k) => news[k] !== undefined && JSON.stringify(olds[k]) !== JSON.stringify(news[k]),
      );
      return {
        changes: changed.length > 0,
        replaces: recreate.length > 0 ? [...recreate] : [],
        deleteBeforeReplace: recreate.length > 0,
      };
    },

    async create(inputs: StreamInputs): Promise<pulumi.dynamic.CreateResult<StreamOutputs>> {
      return withNats(inputs, async (c) => {
        const name = inputs.streamName;
        let live = await findStream(c.nc, name);
        let recreating = false;
        if (live !== undefined && inputs.storage !== undefined && live.config.storage !== inputs.storage) {
          if (!inputs.allowRecreate) {
            throw new AkiraNatsError(
              "recreate-refused",
              `${name} exists with ${live.config.storage} storage, declared ${inputs.storage}: changing storage needs the stream recreated, which deletes its ${live.state.messages} messages; back it up, then set allowRecreate: true`,
            );
          }
          log(
            `${name}: allowRecreate: deleting the ${live.config.storage} stream (${live.state.messages} messages) to recreate it with ${inputs.storage} storage`,
          );
          await jsApiRequest(c.nc, `$JS.API.STREAM.DELETE.${name}`, undefined, { stream: name });
          live = undefined;
          recreating = true;
        }
        if (live === undefined) {
          if (!inputs.createIfMissing && !recreating) {
            throw new AkiraNatsError("stream-not-found", missingStreamMessage(name, c.shown));
          }
          log(
            `${name}: creating it at R1${inputs.replicas > 1 ? `, then scaling to R${inputs.replicas}` : ""}`,
          );
          const { replicas: _r, ...declared } = declaredOf(inputs);
          live = await createStream(c.nc, name, { ...declared, replicas: 1 });
        } else {
          log(
            `${name}: adopting the existing stream (${live.state.messages} messages, R${live.config.num_replicas}); its data is not touched`,
          );
        }
        const snap = await converge(c, inputs, live);
        return { id: name, outs: toOutputs(inputs, snap) };
      });
    },

    async read(id: string, props: StreamOutputs): Promise<pulumi.dynamic.ReadResult<StreamOutputs>> {
      return withNats(props, async (c) => {
        const snap = await findStream(c.nc, id);
        if (snap === undefined) {
          throw new AkiraNatsError("stream-vanished", vanishedStreamMessage(id, c.shown));
        }
        return { id, props: toOutputs(props, snap) };
      });
    },

    async update(
      id: string,
      _olds: StreamOutputs,
      news: StreamInputs,
    ): Promise<pulumi.dynamic.UpdateResult<StreamOutputs>> {
      return withNats(news, async (c) => {
        const live = await findStream(c.nc, id);
        if (live === undefined)
          throw new AkiraNatsError("stream-vanished", vanishedStreamMessage(id, c.shown));
        const snap = await converge(c, news, live);
        return { outs: toOutputs(news, snap) };
      });
    },

    async delete(id: string, props: StreamOutputs): Promise<void> {
      if (!props.allowDelete) {
        log(
          `${id}: kept on the servers with its ${props.messages ?? "?"} messages (allowDelete is not set): only the Pulumi resource is removed; delete the stream by hand (nats stream rm ${id}) if that is really wanted`,
        );
        return;
      }
      await withNats(props, async (c) => {
        const snap = await findStream(c.nc, id);
        if (snap === undefined) return;
        log(`${id}: allowDelete: deleting the stream and its ${snap.state.messages} messages`);
        await jsApiRequest(c.nc, `$JS.API.STREAM.DELETE.${id}`, undefined, { stream: id });
      });
    },
  };
}

export type StreamProvider = ReturnType<typeof createStreamProvider>;
