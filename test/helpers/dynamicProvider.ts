/**
 * Runs a small program under Pulumi's mocks, takes the `__provider` input a dynamic resource
 * registers, and revives it exactly as the dynamic-provider host does
 * (`@pulumi/pulumi/cmd/dynamic-provider/index.js`: `requireFromString(text).handler()`).
 */
import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";

export interface CapturedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly providerText: string;
}

/** Declares resources with `program` under mocks and returns what the engine would have received. */
export async function captureDynamicResources(
  program: () => readonly pulumi.CustomResource[],
): Promise<CapturedResource[]> {
  const captured: CapturedResource[] = [];
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        if (args.inputs.__provider === undefined) return { id: `${args.name}-id`, state: args.inputs };
        captured.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          providerText: String(args.inputs.__provider),
        });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: () => ({}),
    },
    "akira-nats",
    "test",
    false,
  );
  const resources = program();
  // Registration is asynchronous: an id resolves once the mock engine has seen the inputs.
  await Promise.all(resources.map((r) => new Promise((resolve) => r.id.apply(resolve))));
  return captured;
}

/** The host's own `require-from-string`, resolved from @pulumi/pulumi like the host does. */
export function reviveProvider<P>(providerText: string): P {
  const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi"));
  const requireFromString = pulumiRequire("require-from-string") as (code: string) => { handler(): P };
  return requireFromString(providerText).handler();
}

/** The `Config` the host hands to `configure()`: keys without a namespace get the project's. */
export function hostConfig(raw: Record<string, string>, project = "akira-nats") {
  const get = (key: string) => raw[key.includes(":") ? key : `${project}:${key}`];
  return {
    get,
    require(key: string): string {
      const v = get(key);
      if (v === undefined) throw new Error(`Missing required configuration key: ${key}`);
      return v;
    },
  };
}
