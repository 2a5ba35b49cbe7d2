/**
 * Reads a stack's plain (non-secret) configuration straight from `Pulumi.<stack>.yaml`, without
 * the Pulumi CLI, so the live checks of `akira-nats drift` run where no CLI is installed (a
 * workstation pointed at the local rehearsal, the tests). Secret values stay encrypted: they are
 * reported as absent, and nothing here needs them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export const PROJECT_NAMESPACE = "akira-nats";

/** A config getter in the shape of `loadStackConfig`'s: key without namespace, raw string value. */
export type ConfigGetter = (key: string) => string | undefined;

export class StackConfigFileError extends Error {
  override name = "StackConfigFileError";
}

/** Path of the stack's config file in the Pulumi project directory. */
export function stackConfigPath(workDir: string, stack: string): string {
  return join(workDir, `Pulumi.${stack}.yaml`);
}

/**
 * Loads `Pulumi.<stack>.yaml` from `workDir`. Values come back as Pulumi stores them for
 * `pulumi config get`: strings as they are, numbers and booleans as text, lists and maps as JSON.
 */
export function readStackConfigFile(workDir: string, stack: string): ConfigGetter {
  const path = stackConfigPath(workDir, stack);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new StackConfigFileError(
      `cannot read the config of stack ${stack} (${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): run from the Pulumi project directory or pass --work-dir`,
    );
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new StackConfigFileError(`${path} is not valid YAML: ${(err as Error).message}`);
  }
  const config = (doc as { config?: Record<string, unknown> } | null)?.config ?? {};
  return (key) => rawValue(config[`${PROJECT_NAMESPACE}:${key}`]);
}

function rawValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "object" && !Array.isArray(value) && "secure" in value) return undefined;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
