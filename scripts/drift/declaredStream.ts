/**
 * The stream as the stack declares it. Only the fields a stack sets are compared with the live
 * stream, like the stream resource's own diff: a limit left to the server's default is not drift.
 *
 * Contract keys (DESIGN.md): `streamName`, `streamReplicas`, `streamSubjects`. The optional limit
 * keys below are read when a stack sets them.
 */
import type { DeclaredStreamSettings } from "../../components/jetstream/streams";
import type { ConfigGetter } from "./stackConfigFile";

/** The stream resource's declared settings plus the name; replicas and subjects always declared. */
export interface DeclaredStream extends DeclaredStreamSettings {
  readonly name: string;
  readonly replicas: number;
  readonly subjects: readonly string[];
}

/** Defaults of the contract keys, as in DESIGN.md. */
export const DEFAULT_STREAM_NAME = "AKIRA_CDR";
export const DEFAULT_STREAM_SUBJECTS: readonly string[] = ["akira.cdr.>"];

/** Optional stream settings: config key → field of {@link DeclaredStream}. */
export const OPTIONAL_STREAM_KEYS = {
  streamStorage: "storage",
  streamRetention: "retention",
  streamDiscard: "discard",
  streamMaxAgeSeconds: "maxAgeSeconds",
  streamMaxBytes: "maxBytes",
  streamMaxMsgs: "maxMsgs",
  streamDuplicateWindowSeconds: "duplicateWindowSeconds",
} as const;

const ENUMS: Record<string, readonly string[]> = {
  storage: ["file", "memory"],
  retention: ["limits", "interest", "workqueue"],
  discard: ["old", "new"],
};

export class DeclaredStreamError extends Error {
  override name = "DeclaredStreamError";
}

/** Builds the declared stream from a stack's config; every bad key is named at once. */
export function declaredStream(get: ConfigGetter): DeclaredStream {
  const problems: string[] = [];
  const name = get("streamName") ?? DEFAULT_STREAM_NAME;
  const replicas = integer(get, "streamReplicas", problems, 1);
  const subjects = subjectList(get, problems);
  const optional: Record<string, string | number> = {};
  for (const [key, field] of Object.entries(OPTIONAL_STREAM_KEYS)) {
    const raw = get(key);
    if (raw === undefined) continue;
    const allowed = ENUMS[field];
    if (allowed !== undefined) {
      if (allowed.includes(raw)) optional[field] = raw;
      else problems.push(`akira-nats:${key} must be one of ${allowed.join(", ")}, got "${raw}"`);
    } else {
      const n = integer(get, key, problems, -1);
      if (n !== undefined) optional[field] = n;
    }
  }
  if (problems.length > 0) {
    throw new DeclaredStreamError(`the stack's stream settings are invalid: ${problems.join("; ")}`);
  }
  return { name, replicas: replicas ?? 1, subjects, ...optional } as DeclaredStream;
}

function integer(get: ConfigGetter, key: string, problems: string[], min: number): number | undefined {
  const raw = get(key);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) {
    problems.push(`akira-nats:${key} must be an integer ≥ ${min}, got "${raw}"`);
    return undefined;
  }
  return n;
}

function subjectList(get: ConfigGetter, problems: string[]): readonly string[] {
  const raw = get("streamSubjects");
  if (raw === undefined) return DEFAULT_STREAM_SUBJECTS;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((s) => typeof s === "string")) {
      return parsed;
    }
  } catch {
    // falls through to the message below
  }
  problems.push(`akira-nats:streamSubjects must be a JSON list of subjects, got ${raw}`);
  return DEFAULT_STREAM_SUBJECTS;
}
