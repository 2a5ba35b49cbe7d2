/**
 * `ClusterShapeGuard`: a dynamic resource that holds the cluster shape the last `pulumi up`
 * applied and refuses, in `check()`, a change that would replace, move or stop every server at
 * once (rules: clusterShape.ts). The engine checks a resource when the program registers it,
 * before it starts any step of the resources registered after it; NatsCluster registers the guard
 * first and makes every Hetzner resource depend on it, so a refused change touches nothing, at
 * preview and at up alike. The resource talks to no API: it only remembers.
 */
import * as pulumi from "@pulumi/pulumi";
import { holdsUnknown } from "../provider/previewUnknowns";
import { portableProviderShell } from "../provider/providerShell";
import { type ClusterShape, shapeChangeFailures } from "./clusterShape";

type ShapeInputs = ClusterShape & { readonly __provider?: string };

/** The guard's provider: `check` refuses, the rest records the shape. */
export function createClusterShapeProvider(): pulumi.dynamic.ResourceProvider<ShapeInputs, ShapeInputs> {
  return {
    async check(olds, news) {
      // A shape still unknown at preview is judged at up.
      if (holdsUnknown(news)) return { inputs: news };
      return { inputs: news, failures: shapeChangeFailures(olds, news) };
    },
    async diff(_id, olds, news) {
      const keys = Object.keys(news).filter((k) => k !== "__provider") as (keyof ClusterShape)[];
      return { changes: keys.some((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k])) };
    },
    async create(inputs) {
      return { id: "cluster-shape", outs: inputs };
    },
    async update(_id, _olds, news) {
      return { outs: news };
    },
    async read(id, props) {
      return { id, props };
    },
    async delete() {},
  };
}

let shell: pulumi.dynamic.ResourceProvider<ShapeInputs, ShapeInputs> | undefined;

export class ClusterShapeGuard extends pulumi.dynamic.Resource {
  constructor(name: string, shape: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    shell ??= portableProviderShell<ShapeInputs, ShapeInputs>(
      "components/cluster/shapeGuard.ts",
      "createClusterShapeProvider",
    );
    super(shell, name, shape, opts, "akira/cluster", "ShapeGuard");
  }
}
