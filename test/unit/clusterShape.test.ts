/**
 * The shape guard: every change that would replace, move or stop the servers all at once is
 * refused with its reason and the safe procedure, before anything is touched; the others pass.
 * The rules are driven through the guard's own provider `check()`, as the engine calls it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { renderAuthorizedKeys } from "../../components/cluster/authorizedKeys";
import { type ClusterShape, publicKeyIdentity } from "../../components/cluster/clusterShape";
import { ed25519KeyPair } from "../../components/cluster/ed25519KeyPair";
import { NatsCluster } from "../../components/cluster/natsCluster";
import { createClusterShapeProvider } from "../../components/cluster/shapeGuard";
import { UNKNOWN_VALUE } from "../../components/provider/previewUnknowns";
import { installMocks, settled, unwrap } from "../helpers/pulumiMocks";

const CURRENT = ed25519KeyPair("current");
const NEXT = ed25519KeyPair("next");
const LIVE: ClusterShape = {
  clusterName: "akira-ga",
  nodeCount: 3,
  serverType: "cx23",
  location: "fsn1",
  image: "ubuntu-24.04",
  privateNetworkCidr: "10.0.0.0/16",
  sshPublicKey: publicKeyIdentity(CURRENT.public),
  authorizedKeys: [publicKeyIdentity(CURRENT.public)],
  acceptedChanges: [],
};

async function check(olds: Partial<ClusterShape>, news: ClusterShape) {
  const result = await createClusterShapeProvider().check?.(olds as ClusterShape, news);
  return result?.failures ?? [];
}

describe("shape guard - changes refused before anything is touched", () => {
  it("first up (nothing applied yet): any shape passes", async () => {
    assert.deepEqual(await check({}, { ...LIVE, nodeCount: 5, serverType: "cx33" }), []);
  });

  it("no change, a bigger cluster, a new firewall-only setting: passes", async () => {
    assert.deepEqual(await check(LIVE, LIVE), []);
    assert.deepEqual(await check(LIVE, { ...LIVE, nodeCount: 5 }), []);
  });

  it("clusterName: refused, naming why and how to revert", async () => {
    assert.deepEqual(await check(LIVE, { ...LIVE, clusterName: "akira-prod" }), [
      {
        property: "clusterName",
        reason:
          "akira-ga → akira-prod would rename a live cluster: the name is in every route and every Hetzner resource name, and nodes with different cluster names refuse each other's routes. Revert it (pulumi config set akira-nats:clusterName akira-ga); a cluster under a new name is a new stack, filled the way the cutover fills GA",
      },
    ]);
  });

  it("location: refused", async () => {
    assert.deepEqual(await check(LIVE, { ...LIVE, location: "hel1" }), [
      {
        property: "location",
        reason:
          "fsn1 → hel1: a server cannot move to another location, and the private network's zone follows it. Revert it (pulumi config set akira-nats:location fsn1); a cluster elsewhere is a new stack, filled the way the cutover fills GA",
      },
    ]);
  });

  it("privateNetworkCidr: refused", async () => {
    assert.deepEqual(await check(LIVE, { ...LIVE, privateNetworkCidr: "10.1.0.0/16" }), [
      {
        property: "privateNetworkCidr",
        reason:
          "10.0.0.0/16 → 10.1.0.0/16 would replace the private network every route runs over and every node's fixed address at once. Revert it (pulumi config set akira-nats:privateNetworkCidr 10.0.0.0/16)",
      },
    ]);
  });

  it("nodeCount down: refused with the shrink procedure", async () => {
    assert.deepEqual(await check({ ...LIVE, nodeCount: 5 }, LIVE), [
      {
        property: "nodeCount",
        reason:
          "5 → 3 would delete servers that hold stream replicas and JetStream meta-group peers. Revert it (pulumi config set akira-nats:nodeCount 5); to shrink, first lower streamReplicas to at most 3 and remove each leaving node's peer (nats server raft peer-remove), as docs/stacks.md describes",
      },
    ]);
  });

  it("serverType: refused until the node-by-node resize is recorded; then it passes", async () => {
    const resized = { ...LIVE, serverType: "cx33" };
    assert.deepEqual(await check(LIVE, resized), [
      {
        property: "serverType",
        reason:
          "cx23 → cx33: the Hetzner provider changes a server's type by powering it off, and would do every node at once. Resize one node at a time instead (docs/stacks.md, \"Resizing the nodes\"); then record it with pulumi config set --path 'akira-nats:acceptLiveChange[0]' serverType=cx33, or revert it (pulumi config set akira-nats:serverType cx23)",
      },
    ]);
    assert.deepEqual(await check(LIVE, { ...resized, acceptedChanges: ["serverType=cx33"] }), []);
    // An acceptance for another value does not count.
    assert.equal((await check(LIVE, { ...resized, acceptedChanges: ["serverType=cx43"] })).length, 1);
  });

  it("image: refused unless accepted for servers created from now on", async () => {
    const newer = { ...LIVE, image: "ubuntu-26.04" };
    assert.deepEqual(await check(LIVE, newer), [
      {
        property: "image",
        reason:
          "ubuntu-24.04 → ubuntu-26.04: a new image means rebuilding a server (its disk and JetStream replica wiped), which the program never does to a running node. Rebuild one node at a time (docs/stacks.md, \"A new image\"), or let only servers created from now on use it; then record it with pulumi config set --path 'akira-nats:acceptLiveChange[0]' image=ubuntu-26.04, or revert it (pulumi config set akira-nats:image ubuntu-24.04)",
      },
    ]);
    assert.deepEqual(await check(LIVE, { ...newer, acceptedChanges: ["image=ubuntu-26.04"] }), []);
  });

  it("sshPublicKey: a key the nodes do not accept yet is refused; authorized first, the switch passes", async () => {
    const switched = {
      ...LIVE,
      sshPublicKey: publicKeyIdentity(NEXT.public),
      authorizedKeys: [publicKeyIdentity(NEXT.public)],
    };
    assert.deepEqual(await check(LIVE, switched), [
      {
        property: "sshPublicKey",
        reason:
          "the nodes do not accept the new key yet, so every config command would be locked out. Rotate in two runs: first authorize it next to the current one (pulumi config set akira-nats:sshNextPublicKey '<new public key>'; pulumi up), then switch sshPrivateKey and sshPublicKey to the new pair and clear sshNextPublicKey",
      },
    ]);
    const bothAuthorized = {
      ...LIVE,
      authorizedKeys: [publicKeyIdentity(CURRENT.public), publicKeyIdentity(NEXT.public)],
    };
    assert.deepEqual(await check(LIVE, bothAuthorized), []);
    assert.deepEqual(await check(bothAuthorized, switched), []);
  });

  it("several refusals at once, every one named", async () => {
    const failures = await check(LIVE, { ...LIVE, location: "nbg1", serverType: "cx33", nodeCount: 1 });
    assert.deepEqual(
      failures.map((f) => f.property),
      ["location", "nodeCount", "serverType"],
    );
  });

  it("a shape still unknown at preview is judged at up", async () => {
    assert.deepEqual(await check(LIVE, { ...LIVE, clusterName: UNKNOWN_VALUE }), []);
  });
});

describe("shape guard - in the cluster component", () => {
  it("registered with the declared shape, key comments dropped", async () => {
    const mocks = await installMocks({ stack: "ga", config: {} });
    new NatsCluster("c", {
      clusterName: "akira-ga",
      privateNetworkCidr: "10.0.0.0/16",
      adminCidrs: ["85.10.20.30/32"],
      clientCidrs: ["10.20.0.0/16"],
      sshPublicKey: CURRENT.public,
      sshNextPublicKey: NEXT.public,
      acceptedChanges: ["serverType=cx33"],
      serverType: "cx33",
      sshPrivateKey: pulumi.secret("key"),
      natsVersion: "2.15.1",
      natsSha256: "a".repeat(64),
      maxFileStoreBytes: 24_000_000_000,
      clientPassword: pulumi.secret("ClientPw-7f3a9c2e1b4d8a6f"),
      systemPassword: pulumi.secret("SystemPw-2b9e4d7c1a3f5e8b"),
      clusterPassword: pulumi.secret("RoutePw-9c1e5a7d3b2f4e6a"),
    });
    await settled();
    const guard = mocks.byName("c-shape");
    const { __provider, ...shape } = unwrap(guard.inputs) as Record<string, unknown>;
    assert.equal(typeof __provider, "string");
    assert.deepEqual(shape, {
      clusterName: "akira-ga",
      nodeCount: 3,
      serverType: "cx33",
      location: "fsn1",
      image: "ubuntu-24.04",
      privateNetworkCidr: "10.0.0.0/16",
      sshPublicKey: publicKeyIdentity(CURRENT.public),
      authorizedKeys: [publicKeyIdentity(CURRENT.public), publicKeyIdentity(NEXT.public)],
      acceptedChanges: ["serverType=cx33"],
    });
    // Both keys reach root's authorized_keys on every node, through the config commands.
    for (const c of mocks.ofType("command:remote:Command")) {
      assert.ok(
        (c.inputs.create as string).includes(renderAuthorizedKeys([CURRENT.public, NEXT.public])),
        c.name,
      );
    }
  });
});

describe("root's authorized_keys - written by the config command", () => {
  it("replaces the file with exactly the keys, mode 0600, idempotently", () => {
    const dir = mkdtempSync(join(tmpdir(), "akira-keys-"));
    const file = join(dir, ".ssh", "authorized_keys");
    for (const keys of [[CURRENT.public, NEXT.public], [NEXT.public], [NEXT.public]]) {
      const run = spawnSync("bash", ["-euc", renderAuthorizedKeys(keys, file)], { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(readFileSync(file, "utf8"), keys.map((k) => `${k.trim()}\n`).join(""));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, ".ssh")).mode & 0o777, 0o700);
    }
  });

  it("refuses an empty key list (it would lock every login out)", () => {
    assert.throws(() => renderAuthorizedKeys([" "]), {
      message: "renderAuthorizedKeys: at least one single-line public key is required",
    });
  });
});
