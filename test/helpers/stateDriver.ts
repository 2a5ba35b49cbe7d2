/**
 * A child process that plays the engine's dynamic-provider host for one checkout: run with the
 * checkout as working directory (as the engine starts the host), it either declares a stream and
 * prints the `__provider` text Pulumi would store, or revives a stored text and calls one provider
 * method with the given arguments, printing the result as JSON on the last line.
 *
 * Usage: node --import tsx stateDriver.ts JOB.json, with JOB = { step, providerText?, args, env? }.
 */
import { readFileSync } from "node:fs";
import { JetStreamStream, type JetStreamStreamArgs } from "../../components/stream/jetStreamStream";
import type { StreamProvider } from "../../components/stream/jetStreamStreamProvider";
import { captureDynamicResources, hostConfig, reviveProvider } from "./dynamicProvider";

interface Job {
  readonly step: "capture" | "create" | "read" | "diff" | "update" | "delete";
  readonly providerText?: string;
  readonly args: readonly unknown[];
  readonly config?: Record<string, string>;
}

async function main(): Promise<unknown> {
  const job = JSON.parse(readFileSync(process.argv[2] as string, "utf8")) as Job;
  if (job.step === "capture") {
    const [captured] = await captureDynamicResources(() => [
      new JetStreamStream("cdr", job.args[0] as JetStreamStreamArgs),
    ]);
    return { providerText: captured?.providerText, inputs: captured?.inputs };
  }
  const provider = reviveProvider<StreamProvider>(job.providerText ?? "");
  await provider.configure({ config: hostConfig(job.config ?? {}) } as never);
  const method = provider[job.step] as (...a: unknown[]) => Promise<unknown>;
  return (await method(...job.args)) ?? null;
}

main().then(
  (result) => {
    process.stdout.write(`\n${JSON.stringify({ ok: result })}\n`);
    process.exit(0);
  },
  (err: Error) => {
    process.stdout.write(`\n${JSON.stringify({ error: err.message })}\n`);
    process.exit(0);
  },
);
