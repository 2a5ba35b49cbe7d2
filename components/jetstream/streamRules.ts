/**
 * JetStream's own limits on a stream's name and replica count, in one place for the stack config
 * rules, the stream provider's `check`, the library and the CLI. (The stack config is stricter
 * about names, 1–32 of `A-Za-z0-9_-`, because they become directory names; that rule builds on
 * this one.)
 */
import { AkiraNatsError } from "./errors";

/** JetStream refuses more than 5 replicas of a stream. */
export const MAX_REPLICAS = 5;

/** Characters a stream name may not hold: it is a token of API subjects (`$JS.API.STREAM.INFO.<name>`). */
const FORBIDDEN_IN_NAME = /[.*>\s/\\]/;

/** Why `name` is not a stream name JetStream accepts, or undefined when it is. */
export function streamNameProblem(name: string): string | undefined {
  if (name.length === 0 || FORBIDDEN_IN_NAME.test(name)) {
    return "a stream name may not be empty or contain '.', '*', '>', '/', '\\' or whitespace";
  }
  return undefined;
}

/** Throws `bad-stream-name` naming the name and the rule. */
export function assertStreamName(name: string): void {
  const problem = streamNameProblem(name);
  if (problem !== undefined) {
    throw new AkiraNatsError("bad-stream-name", `invalid stream name "${name}": ${problem}`);
  }
}

/** True for a replica count JetStream accepts: an integer from 1 to {@link MAX_REPLICAS}. */
export function validReplicas(replicas: unknown): replicas is number {
  return Number.isInteger(replicas) && (replicas as number) >= 1 && (replicas as number) <= MAX_REPLICAS;
}
