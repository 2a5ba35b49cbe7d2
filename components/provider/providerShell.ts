/**
 * The serializable shell of this program's dynamic providers (the stream, the cluster-shape guard,
 * the nodes' SSH host keys).
 *
 * Pulumi serializes a dynamic provider into the resource's `__provider` input, and the engine's
 * dynamic-provider host revives it from *state* for `refresh`, `read` and `delete`: on another
 * machine, from another checkout, long after the `up` that wrote it. So the shell captures only
 * two strings, both relative: the provider module's path inside the akira-nats package and the
 * name of its factory. Where the package lies is found when a method runs, from the host's working
 * directory: the engine starts the host (`pulumi-resource-pulumi-nodejs`) in the program's
 * directory, the one holding `Pulumi.yaml` and `node_modules`. tsx is loaded from that package too,
 * because the host is a plain Node process without this program's TypeScript loader.
 */
import type * as pulumi from "@pulumi/pulumi";

/** The `name` in package.json that marks the akira-nats checkout. */
export const PACKAGE_NAME = "akira-nats";

/**
 * A provider whose methods load `factory` from `moduleFromRoot` (e.g. `components/stream/jetStreamStreamProvider.ts`)
 * inside the akira-nats package found from the working directory, once, on first use.
 */
export function portableProviderShell<I, O>(
  moduleFromRoot: string,
  factory: string,
): pulumi.dynamic.ResourceProvider<I, O> {
  // Everything below runs inside the serialized closure: no import of this module may be used
  // here (it would be frozen into state by value), only Node built-ins required at run time.
  // The loaded provider is kept on `globalThis`, not in a variable of this closure: serialization
  // freezes captured variables, so every method would otherwise load a fresh provider and lose
  // what `configure()` gave the previous one (the stack's credentials).
  const load = (): pulumi.dynamic.ResourceProvider<I, O> => {
    const global = globalThis as { __akiraNatsProviders?: Record<string, unknown> };
    global.__akiraNatsProviders ??= {};
    const loaded = global.__akiraNatsProviders as Record<string, pulumi.dynamic.ResourceProvider<I, O>>;
    const key = `${moduleFromRoot}#${factory}`;
    const known = loaded[key];
    if (known !== undefined) return known;
    const nodePath = require("node:path") as typeof import("node:path");
    const nodeFs = require("node:fs") as typeof import("node:fs");
    const nodeModule = require("node:module") as typeof import("node:module");
    const start = process.cwd();
    let root = start;
    for (;;) {
      const manifest = nodePath.join(root, "package.json");
      if (nodeFs.existsSync(manifest)) {
        try {
          if (JSON.parse(nodeFs.readFileSync(manifest, "utf8")).name === PACKAGE_NAME) break;
        } catch {
          // An unreadable package.json on the way up is not ours; keep looking.
        }
      }
      const parent = nodePath.dirname(root);
      if (parent === root) {
        throw new Error(
          `the akira-nats provider for this resource runs from the akira-nats checkout, and none was found from ${start} upwards: run pulumi from the checkout's directory (the one with Pulumi.yaml), after npm ci`,
        );
      }
      root = parent;
    }
    const file = nodePath.join(root, moduleFromRoot);
    const fromRoot = nodeModule.createRequire(nodePath.join(root, "package.json"));
    const tsx = fromRoot("tsx/cjs/api") as { require(id: string, from: string): Record<string, unknown> };
    const make = tsx.require(file, file)[factory] as () => pulumi.dynamic.ResourceProvider<I, O>;
    const impl = make();
    loaded[key] = impl;
    return impl;
  };
  // Every method is forwarded, including optional ones the provider may not define.
  return {
    configure: (req) => load().configure?.(req) ?? Promise.resolve(),
    check: (olds, news) => load().check?.(olds, news) ?? Promise.resolve({ inputs: news }),
    diff: (id, olds, news) => load().diff?.(id, olds, news) ?? Promise.resolve({}),
    create: (inputs) => load().create(inputs),
    read: (id, props) => load().read?.(id, props) ?? Promise.resolve({ id, props }),
    update: (id, olds, news) => load().update?.(id, olds, news) ?? Promise.resolve({}),
    delete: (id, props) => load().delete?.(id, props) ?? Promise.resolve(),
  } as pulumi.dynamic.ResourceProvider<I, O>;
}
