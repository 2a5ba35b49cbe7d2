import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { NatsCluster, type NatsClusterArgs } from "../../components/cluster/natsCluster";
import { PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";
import { installMocks, settled } from "../helpers/pulumiMocks";

const ARGS: NatsClusterArgs = {
  clusterName: "akira-ga",
  privateNetworkCidr: "10.0.0.0/16",
  adminCidrs: ["85.10.20.30/32"],
  clientCidrs: ["10.20.0.0/16"],
  sshPublicKey: "ssh-ed25519 AAAA test",
  sshPrivateKey: pulumi.secret("key"),
  natsVersion: PINNED_NATS_VERSION,
  natsSha256: "a".repeat(64),
  maxFileStoreBytes: 24_000_000_000,
  clientPassword: pulumi.secret("ClientPw-7f3a9c2e1b4d8a6f"),
  systemPassword: pulumi.secret("SystemPw-2b9e4d7c1a3f5e8b"),
  clusterPassword: pulumi.secret("RoutePw-9c1e5a7d3b2f4e6a"),
};

describe("NatsCluster - component", () => {
  it("defaults - 3 cx23 ubuntu-24.04 in fsn1; children parented and named after the component", async () => {
    const mocks = await installMocks({ stack: "ga", config: {} });
    const cluster = new NatsCluster("c", ARGS);
    await settled();
    const servers = mocks.ofType("hcloud:index/server:Server");
    assert.deepEqual(
      servers.map((s) => [s.name, s.inputs.serverType, s.inputs.image, s.inputs.location]),
      [1, 2, 3].map((i) => [`c-akira-ga-${i}`, "cx23", "ubuntu-24.04", "fsn1"]),
    );
    const componentUrn = mocks.byName("c").urn;
    for (const r of mocks.resources.filter((r) => r.name !== "c")) {
      assert.ok(r.name.startsWith("c-"), r.name);
      assert.equal(r.parent, componentUrn, r.name);
    }
    assert.equal(cluster.natsUrl, "tls://10.0.0.11:4222,tls://10.0.0.12:4222,tls://10.0.0.13:4222");
  });

  it("five nodes - five servers and five chained commands, every conf routing to all five", async () => {
    const mocks = await installMocks({ stack: "ga", config: {} });
    new NatsCluster("c", { ...ARGS, nodeCount: 5 });
    await settled();
    const commands = mocks.ofType("command:remote:Command");
    assert.equal(mocks.ofType("hcloud:index/server:Server").length, 5);
    assert.equal(commands.length, 5);
    for (const c of commands) {
      assert.match(
        c.inputs.create as string,
        /# 10\.0\.0\.11:6222, 10\.0\.0\.12:6222, 10\.0\.0\.13:6222, 10\.0\.0\.14:6222, 10\.0\.0\.15:6222 /,
      );
    }
    for (let i = 1; i < commands.length; i++) {
      assert.ok(commands[i]?.dependencies.includes(commands[i - 1]?.urn as string));
    }
  });

  it("absorbPilot - refused, naming the risk and the fix", async () => {
    await installMocks({ stack: "ga", config: {} });
    assert.throws(() => new NatsCluster("c", { ...ARGS, absorbPilot: true }), {
      message:
        "absorbPilot is not supported by NatsCluster: a standalone JetStream server that joins a cluster deletes its streams as orphans, and the pilot stays the rollback target. Set `pulumi config set akira-nats:absorbPilot false`; the GA stream is restored from the pilot's backup.",
    });
  });
});
