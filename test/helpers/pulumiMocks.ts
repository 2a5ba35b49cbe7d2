/**
 * Pulumi engine mocks for unit tests: every resource the program registers is recorded with its
 * type, name, inputs (secrets still wrapped, so a test can see what is marked secret), the URNs it
 * depends on and the options the engine receives. Hetzner resources get what the real provider
 * returns: numeric ids as strings, a public IPv4 for servers. Nothing reaches an engine or an API.
 */

import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { ed25519KeyPair, type KeyPair, publicKeyFingerprint } from "../../components/cluster/ed25519KeyPair";
import { PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";
import {
  type IssuedCertificate,
  issueAuthority,
  issueNodeCertificate,
} from "../../components/tls/certificates";

/** Pulumi's wire marker for a secret value (`{ [SIG]: SECRET, value }`). */
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** Inputs as the engine receives them; secret values stay wrapped (see {@link isSecret}). */
  readonly inputs: Record<string, unknown>;
  readonly custom: boolean;
  readonly id: string;
  urn: string;
  /** URNs this resource depends on (explicit `dependsOn` and through its inputs). */
  dependencies: string[];
  parent: string;
  additionalSecretOutputs: string[];
  ignoreChanges: string[];
  protect: boolean;
  deleteBeforeReplace: boolean;
}

export function isSecret(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG] === SECRET;
}

/** The value with every secret wrapper removed (deeply). */
export function unwrap(value: unknown): unknown {
  if (isSecret(value)) return unwrap((value as { value: unknown }).value);
  if (Array.isArray(value)) return value.map(unwrap);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
  }
  return value;
}

/** Outputs the real providers compute (beyond echoing the inputs). */
/** The host-key fingerprint a mocked config command reports, one per command name. */
export function mockHostKey(commandName: string): string {
  return `SHA256:${createHash("sha256").update(commandName).digest("base64").replace(/=+$/, "")}`;
}

const hostKeyPairs = new Map<string, KeyPair>();

/** The key pair a mocked `SshHostKey` named `resourceName` generates (one per name, per process). */
export function mockHostKeyPair(resourceName: string): KeyPair {
  let pair = hostKeyPairs.get(resourceName);
  if (pair === undefined) {
    pair = ed25519KeyPair(resourceName);
    hostKeyPairs.set(resourceName, pair);
  }
  return pair;
}

const issuedCertificates = new Map<string, IssuedCertificate>();

/** The certificate a mocked TLS resource named `resourceName` issued (one per name, per process). */
export function mockCertificate(resourceName: string): IssuedCertificate | undefined {
  return issuedCertificates.get(resourceName);
}

/** Forgets a mocked certificate: the next run issues a new one, as a renewal does. */
export function renewMockCertificate(resourceName: string): void {
  issuedCertificates.delete(resourceName);
}

function issueOnce(name: string, issue: () => IssuedCertificate): IssuedCertificate {
  let cert = issuedCertificates.get(name);
  if (cert === undefined) {
    cert = issue();
    issuedCertificates.set(name, cert);
  }
  return cert;
}

function computedOutputs(
  type: string,
  name: string,
  id: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  switch (type) {
    case "hcloud:index/server:Server": {
      const n = Number(id) % 250;
      return { ipv4Address: `203.0.113.${n}`, ipv6Address: "", status: "running", primaryDiskSize: 40 };
    }
    case "pulumi-nodejs:dynamic/akira/ssh:HostKey": {
      const pair = mockHostKeyPair(name);
      return {
        publicKey: pair.public.trim(),
        privateKey: pair.private,
        fingerprint: publicKeyFingerprint(pair.public),
      };
    }
    case "pulumi-nodejs:dynamic/akira/tls:Authority":
      return {
        ...issueOnce(name, () => issueAuthority(String(inputs.commonName), Number(inputs.validityDays))),
      };
    case "pulumi-nodejs:dynamic/akira/tls:NodeCertificate": {
      const i = unwrap(inputs) as Record<string, unknown>;
      return {
        ...issueOnce(name, () =>
          issueNodeCertificate({
            authority: {
              certificate: String(i.authorityCertificate),
              privateKey: String(i.authorityPrivateKey),
            },
            commonName: String(i.node),
            ips: i.ips as string[],
            validityDays: Number(i.validityDays),
          }),
        ),
      };
    }
    case "command:remote:Command":
      // What the node script prints last on a host with an ed25519 host key.
      return { stdout: `akira-nats node: ssh host key ssh-ed25519 ${mockHostKey(name)}\n`, stderr: "" };
    default:
      return inputs.name === undefined ? {} : { name: inputs.name };
  }
}

export class RecordingMocks implements pulumi.runtime.Mocks {
  readonly resources: RecordedResource[] = [];
  readonly calls: string[] = [];
  private nextId = 1000001;

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    // Hetzner ids are integers, delivered as strings, as pulumi-hcloud does.
    const id = args.type.startsWith("hcloud:") ? String(this.nextId++) : `${args.name}-id`;
    const inputs = args.inputs as Record<string, unknown>;
    this.resources.push({
      type: args.type,
      name: args.name,
      inputs,
      custom: args.custom ?? true,
      id,
      urn: "",
      dependencies: [],
      parent: "",
      additionalSecretOutputs: [],
      ignoreChanges: [],
      protect: false,
      deleteBeforeReplace: false,
    });
    return { id, state: { ...inputs, ...computedOutputs(args.type, args.name, id, inputs) } };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    // The program must make no invoke (they call the Hetzner API even in preview).
    this.calls.push(args.token);
    return {};
  }

  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  byName(name: string): RecordedResource {
    const found = this.resources.find((r) => r.name === name);
    if (found === undefined)
      throw new Error(`no resource named ${name}: ${this.resources.map((r) => r.name).join(", ")}`);
    return found;
  }
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getIgnorechangesList(): string[];
  getProtect(): boolean;
  getDeletebeforereplace(): boolean;
}
type Callback = (err: unknown, resp?: { getUrn(): string }) => void;

/**
 * Installs the mocks for a stack and sets its config; returns the recorder. Call before loading the
 * program. The engine-side request (dependencies, additional secret outputs, URN) is recorded by
 * wrapping the mock monitor's `registerResource`.
 */
export async function installMocks(opts: {
  stack: string;
  config: Readonly<Record<string, string>>;
  secretKeys?: readonly string[];
  preview?: boolean;
}): Promise<RecordingMocks> {
  const mocks = new RecordingMocks();
  await pulumi.runtime.setMocks(mocks, "akira-nats", opts.stack, opts.preview ?? false);
  pulumi.runtime.setAllConfig({ ...opts.config }, [...(opts.secretKeys ?? [])]);
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, cb: Callback): void;
  };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    original(req, (err, resp) => {
      if (!err && resp !== undefined) {
        const rec = [...mocks.resources]
          .reverse()
          .find((r) => r.type === req.getType() && r.name === req.getName() && r.urn === "");
        if (rec !== undefined) {
          rec.urn = resp.getUrn();
          rec.dependencies = req.getDependenciesList();
          rec.parent = req.getParent();
          rec.additionalSecretOutputs = req.getAdditionalsecretoutputsList();
          rec.ignoreChanges = req.getIgnorechangesList();
          rec.protect = req.getProtect();
          rec.deleteBeforeReplace = req.getDeletebeforereplace();
        }
      }
      cb(err, resp);
    });
  return mocks;
}

/** Resolves when every registration the program started has been answered. */
export async function settled(): Promise<void> {
  const settings = (await import("@pulumi/pulumi/runtime/settings.js")) as unknown as {
    waitForRPCs(): Promise<void>;
  };
  await settings.waitForRPCs();
}

/** The value of an Output (secret or not), for assertions. */
export function resolved<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** Whether an Output is a secret. */
export function outputIsSecret(output: pulumi.Output<unknown>): Promise<boolean> {
  return (output as unknown as { isSecret: Promise<boolean> }).isSecret;
}

/** Known secret values for the stack fixtures: tests search every recorded byte for them. */
export const KNOWN_SECRETS = {
  clientPassword: "ClientPw-7f3a9c2e1b4d8a6f",
  systemPassword: "SystemPw-2b9e4d7c1a3f5e8b",
  clusterPassword: "RoutePw-9c1e5a7d3b2f4e6a",
  hcloudToken: "HcloudToken0test9f8e7d6c5b4a3928170f1e2d3c4b5a6978a1b2c3d4e5f6a7",
} as const;

export const NATS_VERSION = PINNED_NATS_VERSION;
/** The staging fixtures' pilot host key (a fixed ed25519 public key). */
export const PILOT_HOST_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINtRZ3KwwACFf5VT0mud4YI2SqV6ENz74Gt1mHpFhOWI";
export const NATS_SHA256 = "a".repeat(64);

/**
 * A complete, valid config for `stack` (`staging` or `ga`), keys qualified as Pulumi stores them.
 * `sshPrivateKey`/`sshPublicKey` are a real ed25519 pair (the validator parses them).
 */
export function stackConfig(
  stack: "staging" | "ga",
  keys: { readonly privateKey: string; readonly publicKey: string },
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const common = {
    natsVersion: NATS_VERSION,
    natsSha256: NATS_SHA256,
    pilotHost: "95.216.10.20",
    clientPassword: KNOWN_SECRETS.clientPassword,
    systemPassword: KNOWN_SECRETS.systemPassword,
    clusterPassword: KNOWN_SECRETS.clusterPassword,
    sshPrivateKey: keys.privateKey,
    sshPublicKey: keys.publicKey,
  };
  const perStack: Record<string, string> =
    stack === "ga"
      ? {
          mode: "cluster",
          nodeCount: "3",
          streamReplicas: "3",
          serverType: "cx23",
          location: "fsn1",
          privateNetworkCidr: "10.0.0.0/16",
          adminCidrs: JSON.stringify(["85.10.20.30/32"]),
          clientCidrs: JSON.stringify(["10.20.0.0/16"]),
        }
      : { mode: "single", nodeCount: "1", streamReplicas: "1", pilotHostKey: PILOT_HOST_KEY };
  const raw: Record<string, string> = { ...common, ...perStack, ...overrides };
  const qualified: Record<string, string> = Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k.includes(":") ? k : `akira-nats:${k}`, v]),
  );
  if (stack === "ga") qualified["hcloud:token"] = KNOWN_SECRETS.hcloudToken;
  return qualified;
}

/** The config keys Pulumi would hold as secrets. */
export const SECRET_KEYS = [
  "akira-nats:clientPassword",
  "akira-nats:systemPassword",
  "akira-nats:clusterPassword",
  "akira-nats:sshPrivateKey",
  "hcloud:token",
];

export interface ProgramRun {
  readonly mocks: RecordingMocks;
  /** The program's exports, resolved. */
  readonly outputs: Record<string, unknown>;
  /** The program's exports as Outputs (to check secrecy). */
  readonly exports: Record<string, unknown>;
}

/**
 * Runs the real `index.ts` for a stack under the mocks: a fresh load of the module each time, so
 * both stacks (and a changed config) run in one test file.
 */
export async function runProgram(stack: string, config: Record<string, string>): Promise<ProgramRun> {
  const mocks = await installMocks({ stack, config, secretKeys: SECRET_KEYS });
  const path = require.resolve("../../index");
  delete require.cache[path];
  const exports = require(path) as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(exports)) {
    outputs[key] = pulumi.Output.isInstance(value) ? await resolved(value) : await resolvedDeep(value);
  }
  await settled();
  return { mocks, outputs, exports };
}

async function resolvedDeep(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) return resolved(value);
  if (Array.isArray(value)) return Promise.all(value.map(resolvedDeep));
  if (typeof value === "object" && value !== null) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await resolvedDeep(v)]),
    );
    return Object.fromEntries(entries);
  }
  return value;
}
