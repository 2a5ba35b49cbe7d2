/**
 * The stream as the stack declares it. Only the fields a stack sets are compared with the live
 * stream, like the stream resource's own diff: a limit left to the server's default is not drift.
 *
 * Each key is checked by the same rule and takes the same default as in the Pulumi program
 * (components/config/configKeys.ts, configRules.ts), so drift compares against exactly what `pulumi up`
 * declares.
 */
import {
  CONFIG_KEYS,
  type ConfigKey,
  type ConfigKeySpec,
  defaultText,
  fixCommand,
  qualifiedKey,
  STREAM_SETTING_KEYS,
} from "../../components/config/config";
import { FIELD_RULES } from "../../components/config/configRules";
import type { DeclaredStreamSettings } from "../../components/jetstream/streams";
import type { ConfigGetter } from "./stackConfigFile";

/** The stream resource's declared settings plus the name; replicas and subjects always declared. */
export interface DeclaredStream extends DeclaredStreamSettings {
  readonly name: string;
  readonly replicas: number;
  readonly subjects: readonly string[];
}

export class DeclaredStreamError extends Error {
  override name = "DeclaredStreamError";
}

/** Builds the declared stream from a stack's config; every bad key is named at once. */
export function declaredStream(get: ConfigGetter): DeclaredStream {
  const problems: string[] = [];
  const read = <K extends ConfigKey>(key: K) => {
    const spec: ConfigKeySpec = CONFIG_KEYS[key];
    const raw = get(key)?.trim();
    const text = raw === undefined || raw === "" ? defaultText(spec) : raw;
    if (text === undefined || text === "") return undefined;
    const parsed = FIELD_RULES[key].safeParse(text);
    if (parsed.success) return parsed.data as unknown;
    for (const issue of parsed.error.issues) problems.push(`${qualifiedKey(key)} ${issue.message}`);
    return undefined;
  };
  const name = read("streamName") as string;
  const replicas = read("streamReplicas") as number | undefined;
  const subjects = read("streamSubjects") as string[];
  const settings: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(STREAM_SETTING_KEYS)) {
    const value = read(key as ConfigKey);
    if (value !== undefined) settings[field] = value;
  }
  if ((get("streamReplicas")?.trim() ?? "") === "") {
    problems.push(`${qualifiedKey("streamReplicas")} is not set (fix: ${fixCommand("streamReplicas")})`);
  }
  if (problems.length > 0) {
    throw new DeclaredStreamError(`the stack's stream settings are invalid: ${problems.join("; ")}`);
  }
  return { name, replicas, subjects, ...settings } as DeclaredStream;
}
