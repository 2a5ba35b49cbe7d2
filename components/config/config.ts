/**
 * The stack config: read every key, apply defaults, check every rule, and report every problem
 * at once — each naming the key, the rule, and the `pulumi config set` command that fixes it —
 * before the program declares a single resource.
 *
 * The keys, types and defaults are in `configKeys.ts`, the per-key rules in `configRules.ts`,
 * the rules between keys in `configCrossRules.ts`, placeholder detection in `placeholders.ts`.
 */

import type { DeclaredStreamSettings } from "../jetstream/streams";
import { type CheckedValues, crossRuleIssues } from "./configCrossRules";
import {
  CONFIG_KEYS,
  CONFIG_NAMESPACE,
  type ConfigKey,
  type ConfigKeySpec,
  fixCommand,
  qualifiedKey,
} from "./configKeys";
import { FIELD_RULES, type Mode } from "./configRules";
import { configWarnings } from "./configWarnings";
import { findPlaceholder, type PlaceholderKind } from "./placeholders";

export type { Mode };
export { CONFIG_KEYS, CONFIG_NAMESPACE, type ConfigKey, type ConfigKeySpec, fixCommand, qualifiedKey };

/** What kind of problem an issue is: a missing value, a leftover placeholder, or a broken rule. */
export type IssueCode = "missing" | "placeholder" | "invalid";

export interface ConfigIssue {
  /** The key without namespace (`nodeCount`), or a provider key (`hcloud:token`). */
  readonly key: string;
  /** The rule the value breaks, as a sentence about the key. Never contains a secret value. */
  readonly rule: string;
  /** The `pulumi config set [--secret] akira-nats:<key> …` command that fixes it. */
  readonly fix: string;
  readonly code: IssueCode;
}

/** The optional stream settings; subjects and replicas have keys of their own. */
export type StreamSettings = Omit<DeclaredStreamSettings, "subjects" | "replicas">;

/** The validated stack config with every default applied. */
export type StackConfig = {
  mode: Mode;
  natsVersion: string;
  /** Lowercase hex. */
  natsSha256: string;
  pilotHost: string;
  pilotName: string;
  pilotSshUser: string;
  pilotMaxFileStoreGb: number;
  /** What the pilot runs now, when the stack says (staging compares its pin with it). */
  pilotRunningVersion?: string;
  acceptPilotVersionChange: boolean;
  /** `keytype base64`; `""` on ga (unused there). */
  pilotHostKey: string;
  clusterName: string;
  nodeCount: number;
  serverType: string;
  location: string;
  image: string;
  privateNetworkCidr: string;
  adminCidrs: string[];
  acceptAdminFromAnywhere: boolean;
  clientCidrs: string[];
  /** `""` when unset (allowed in single mode only). */
  sshPublicKey: string;
  /** `""` when unset: no second key. */
  sshNextPublicKey: string;
  /** `serverType=cx33`-style entries: hand-made changes the shape guard accepts. */
  acceptLiveChange: string[];
  /** `<node name> <keytype> <base64>` entries for nodes created before host keys were generated. */
  nodeHostKeys: string[];
  tlsCertificateDays: number;
  tlsRenewBeforeDays: number;
  pilotClientTls: boolean;
  absorbPilot: boolean;
  acceptPilotAbsorbRisk: boolean;
  streamName: string;
  streamReplicas: number;
  streamSubjects: string[];
  /** The optional stream settings the stack sets (streamStorage, streamMaxBytes, …); unset ones are absent. */
  streamSettings: StreamSettings;
  /** Present in cluster mode only; a single server has no routes. */
  clusterPassword?: string;
  clientPassword: string;
  systemPassword: string;
  sshPrivateKey: string;
};

/**
 * A valid config, with what `pulumi preview` should still say about it (`warnings`, from
 * `configWarnings.ts`: an old pin, a change of the pilot's server), or every issue.
 */
export type ParseResult =
  | { ok: true; config: StackConfig; warnings: string[] }
  | { ok: false; issues: ConfigIssue[] };

/** What {@link readStackConfig} returns: the config and the warnings the program logs. */
export interface LoadedStackConfig {
  readonly config: StackConfig;
  readonly warnings: readonly string[];
}

/**
 * One key of a raw stack config (as `pulumi config` holds it) with its default from the key table
 * applied: the one place a default is resolved for code that reads the raw config.
 */
export function rawOrDefault(raw: Readonly<Record<string, string | undefined>>, key: ConfigKey): string {
  const value = raw[key];
  if (value !== undefined && value !== "") return value;
  const fallback = (CONFIG_KEYS[key] as ConfigKeySpec).default;
  return fallback === undefined ? "" : typeof fallback === "string" ? fallback : JSON.stringify(fallback);
}

/** Thrown by {@link loadStackConfig}; the message lists every issue with its fixing command. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  /**
   * Marks this as a Pulumi `RunError` (`RunError.isInstance` checks this field), so `pulumi up`
   * prints the message alone instead of "failed with an unhandled exception" and a stack trace
   * (@pulumi/pulumi cmd/run/run.js). A field rather than `extends RunError` keeps this module
   * free of the Pulumi SDK for the CLI.
   */
  readonly __pulumiRunError = true;
  constructor(issues: readonly ConfigIssue[]) {
    super(formatIssues(issues));
    this.name = "ConfigError";
    this.issues = issues;
  }
}

// Keys holding addresses are also checked against documentation-only ranges and domains.
const ADDRESS_KEYS: ReadonlySet<string> = new Set([
  "pilotHost",
  "privateNetworkCidr",
  "adminCidrs",
  "clientCidrs",
]);
const KEYS = Object.keys(CONFIG_KEYS) as ConfigKey[];
const CLUSTER_ONLY: ReadonlySet<string> = new Set(["clusterPassword", "hcloud:token"]);

/**
 * Validates raw config values, keyed without namespace (`nodeCount`; provider keys qualified:
 * `hcloud:token`), as strings the way Pulumi stores them: numbers and booleans as text, lists as
 * JSON. An absent or empty value takes the key's default.
 */
export function parseStackConfig(raw: Readonly<Record<string, string | undefined>>): ParseResult {
  const issues: ConfigIssue[] = [];
  const values: Partial<Record<ConfigKey, unknown>> = {};

  // A single server has no routes and no Hetzner resources: its cluster-only secrets are not read.
  const single = raw.mode?.trim() === "single";
  for (const key of KEYS) {
    if (single && CLUSTER_ONLY.has(key)) continue;
    const spec: ConfigKeySpec = CONFIG_KEYS[key];
    const given = spec.secret ? raw[key] : raw[key]?.trim();
    const text = given === undefined || given === "" ? defaultText(spec) : given;
    if (text === undefined || text === "") continue;

    const placeholder = placeholderIssue(key, spec, text);
    if (placeholder !== undefined) {
      issues.push(placeholder);
      continue;
    }
    const parsed = FIELD_RULES[key].safeParse(text);
    if (parsed.success) {
      values[key] = parsed.data;
    } else {
      for (const issue of parsed.error.issues) {
        const index = typeof issue.path[0] === "number" ? issue.path[0] : 0;
        issues.push({ key, rule: issue.message, fix: fixCommand(key, index), code: "invalid" });
      }
    }
  }

  const mode = values.mode as Mode | undefined;
  for (const key of KEYS) {
    if (values[key] !== undefined || issues.some((i) => i.key === key)) continue;
    const { requiredWhen, default: fallback } = CONFIG_KEYS[key] as ConfigKeySpec;
    if (requiredWhen === "always" && fallback === undefined) {
      issues.push({ key, rule: "is not set", fix: fixCommand(key), code: "missing" });
    } else if (requiredWhen === "single") {
      if (mode === "single") {
        issues.push({
          key,
          rule: "is not set (required in single mode)",
          fix: fixCommand(key),
          code: "missing",
        });
      }
    } else if (requiredWhen !== "never" && mode === "cluster") {
      issues.push({
        key,
        rule: "is not set (required in cluster mode)",
        fix: fixCommand(key),
        code: "missing",
      });
    }
  }

  for (const cross of crossRuleIssues(values as CheckedValues)) issues.push({ ...cross, code: "invalid" });

  if (issues.length > 0) return { ok: false, issues: redactSecrets(sortByKey(issues), raw) };
  const config = toStackConfig(values);
  return { ok: true, config, warnings: configWarnings(config) };
}

/**
 * Reads every key through `get` and validates it; throws {@link ConfigError} listing every
 * problem, else returns the config and its warnings. In the Pulumi program:
 * `readStackConfig((k) => pulumi.runtime.getConfig(qualifiedKey(k)))` reads the raw strings without
 * Pulumi's "use getSecret" warnings; wrap secrets in `pulumi.secret`, log each warning with
 * `pulumi.log.warn`.
 */
export function readStackConfig(get: (key: string) => string | undefined): LoadedStackConfig {
  const raw: Record<string, string | undefined> = {};
  for (const key of KEYS) raw[key] = get(key);
  const result = parseStackConfig(raw);
  if (!result.ok) throw new ConfigError(result.issues);
  return { config: result.config, warnings: result.warnings };
}

/** {@link readStackConfig} for callers that print no warnings (the CLI's preflight has its own). */
export function loadStackConfig(get: (key: string) => string | undefined): StackConfig {
  return readStackConfig(get).config;
}

/** The keys that still hold a placeholder, in `CONFIG_KEYS` order (the runbook's step 3). */
export function keysToReplace(issues: readonly ConfigIssue[]): string[] {
  return [...new Set(issues.filter((i) => i.code === "placeholder").map((i) => i.key))];
}

/** The message of a {@link ConfigError}: a summary, the keys still to replace, then every issue. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
  const lines = [`stack config has ${count}; nothing was deployed:`];
  const toReplace = keysToReplace(issues);
  if (toReplace.length > 0) {
    lines.push(`  still to replace (runbook step 3): ${toReplace.map(qualifiedKey).join(", ")}`);
  }
  for (const issue of issues) {
    lines.push(`  - ${qualifiedKey(issue.key)} ${issue.rule}`, `      fix: ${issue.fix}`);
  }
  return lines.join("\n");
}

/** The text Pulumi would hand the program for an unset key: its default, lists as JSON. */
export function defaultText(spec: ConfigKeySpec): string | undefined {
  const value = spec.default;
  if (value === undefined) return undefined;
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function placeholderIssue(key: ConfigKey, spec: ConfigKeySpec, text: string): ConfigIssue | undefined {
  const kind: PlaceholderKind = spec.secret ? "secret" : ADDRESS_KEYS.has(key) ? "address" : "text";
  // List entries are inspected one by one, so documentation ranges are found and the fix names the entry.
  const entries = spec.type === "array" ? jsonStrings(text) : undefined;
  const candidates = entries ?? [text];
  for (const [index, candidate] of candidates.entries()) {
    const found = findPlaceholder(candidate, kind);
    if (found === undefined) continue;
    const rule = spec.secret
      ? "still holds a placeholder; set the real secret"
      : `still holds a placeholder${entries ? ` in entry ${index}` : ""}: ${found}; replace it with the real value`;
    return { key, rule, fix: fixCommand(key, index), code: "placeholder" };
  }
  return undefined;
}

function jsonStrings(text: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every((e) => typeof e === "string") ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function sortByKey(issues: ConfigIssue[]): ConfigIssue[] {
  const order = (key: string) => KEYS.indexOf(key as ConfigKey);
  return issues
    .map((issue, i) => ({ issue, i }))
    .sort((a, b) => order(a.issue.key) - order(b.issue.key) || a.i - b.i)
    .map((x) => x.issue);
}

/** Defence in depth: no rule quotes a secret, but if one ever did, the value would not leave here. */
function redactSecrets(
  issues: ConfigIssue[],
  raw: Readonly<Record<string, string | undefined>>,
): ConfigIssue[] {
  const secrets = KEYS.filter((k) => CONFIG_KEYS[k].secret)
    .map((k) => raw[k])
    .filter((s): s is string => s !== undefined && s.length >= 8);
  const scrub = (text: string) => secrets.reduce((t, s) => t.split(s).join("[secret]"), text);
  return issues.map((i) => ({ ...i, rule: scrub(i.rule), fix: scrub(i.fix) }));
}

function toStackConfig(values: Partial<Record<ConfigKey, unknown>>): StackConfig {
  const v = values as Record<ConfigKey, never>;
  const config: StackConfig = {
    mode: v.mode,
    natsVersion: v.natsVersion,
    natsSha256: v.natsSha256,
    pilotHost: v.pilotHost,
    pilotName: v.pilotName,
    pilotSshUser: v.pilotSshUser,
    pilotMaxFileStoreGb: v.pilotMaxFileStoreGb,
    acceptPilotVersionChange: v.acceptPilotVersionChange,
    pilotHostKey: values.pilotHostKey === undefined ? "" : v.pilotHostKey,
    clusterName: v.clusterName,
    nodeCount: v.nodeCount,
    serverType: v.serverType,
    location: v.location,
    image: v.image,
    privateNetworkCidr: v.privateNetworkCidr,
    adminCidrs: v.adminCidrs,
    acceptAdminFromAnywhere: v.acceptAdminFromAnywhere,
    clientCidrs: v.clientCidrs,
    sshPublicKey: values.sshPublicKey === undefined ? "" : v.sshPublicKey,
    sshNextPublicKey: values.sshNextPublicKey === undefined ? "" : v.sshNextPublicKey,
    acceptLiveChange: v.acceptLiveChange,
    nodeHostKeys: v.nodeHostKeys,
    tlsCertificateDays: v.tlsCertificateDays,
    tlsRenewBeforeDays: v.tlsRenewBeforeDays,
    pilotClientTls: v.pilotClientTls,
    absorbPilot: v.absorbPilot,
    acceptPilotAbsorbRisk: v.acceptPilotAbsorbRisk,
    streamName: v.streamName,
    streamReplicas: v.streamReplicas,
    streamSubjects: v.streamSubjects,
    streamSettings: streamSettings(values),
    clientPassword: v.clientPassword,
    systemPassword: v.systemPassword,
    sshPrivateKey: v.sshPrivateKey,
  };
  if (v.mode === "cluster") config.clusterPassword = v.clusterPassword;
  if (values.pilotRunningVersion !== undefined) config.pilotRunningVersion = v.pilotRunningVersion;
  return config;
}

/** Stack key → stream resource field, for the optional stream settings. */
export const STREAM_SETTING_KEYS = {
  streamStorage: "storage",
  streamRetention: "retention",
  streamDiscard: "discard",
  streamMaxAgeSeconds: "maxAgeSeconds",
  streamMaxBytes: "maxBytes",
  streamMaxMsgs: "maxMsgs",
  streamDuplicateWindowSeconds: "duplicateWindowSeconds",
} as const satisfies Partial<Record<ConfigKey, keyof StreamSettings>>;

function streamSettings(values: Partial<Record<ConfigKey, unknown>>): StreamSettings {
  const settings: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(STREAM_SETTING_KEYS)) {
    const value = values[key as ConfigKey];
    if (value !== undefined) settings[field] = value;
  }
  return settings as StreamSettings;
}
