/**
 * Bad flags or arguments: printed as one line and exit code 1 (3 for \`server check\`, whose
 * callers are monitoring systems), never a stack trace. Every command's flag parsing throws it.
 */
export class UsageError extends Error {
  override name = "UsageError";
}
