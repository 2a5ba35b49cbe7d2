import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openAdminTunnel, sshFingerprint, targetFromUrl } from "../../components/cluster/adminTunnel";
import { ed25519KeyPair, publicKeyFingerprint } from "../../components/cluster/ed25519KeyPair";
import { adminTunnelHop } from "../../components/cluster/natsDeployment";
import { connectNats } from "../../components/jetstream/connection";
import { AkiraNatsError } from "../../components/jetstream/errors";
import { freePort } from "../../scripts/local/localNats";
import { sshdUnavailable, startSshd } from "../helpers/localSshd";
import { startPilot } from "../helpers/testServers";

const skip = sshdUnavailable();
const fingerprintOf = (publicKeyLine: string) =>
  sshFingerprint(Buffer.from(publicKeyLine.split(" ")[1] as string, "base64"));

describe("admin tunnel - SSH local forward to NATS", { skip }, () => {
  it("reaches nats-server through a real sshd, host key pinned", async (t) => {
    const pilot = await startPilot(t);
    const sshd = await startSshd(t);
    const node = pilot.nodes[0];
    assert.ok(node);
    const tunnel = await openAdminTunnel({
      sshHost: sshd.host,
      sshPort: sshd.port,
      sshUser: sshd.user,
      privateKey: sshd.privateKey,
      hostKeySha256: fingerprintOf(sshd.hostPublicKey),
      targets: [targetFromUrl(node.url)],
    });
    t.after(() => tunnel.close());

    assert.match(tunnel.urls[0] as string, /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(tunnel.urls[0], node.url);
    const nc = await connectNats({
      servers: tunnel.urls,
      user: "akira",
      password: pilot.secrets.clientPassword,
    });
    assert.equal(nc.info?.server_name, "akira-cache-01-staging");
    await nc.close();
  });

  it("a GA node's generated host key, pinned from its public key line: the right key passes, another is refused", async (t) => {
    // The host key is what the program generates for a GA node and cloud-init installs.
    const nodeKey = ed25519KeyPair("akira-ga-1");
    const sshd = await startSshd(t, { hostKey: nodeKey });
    const pilot = await startPilot(t);
    const target = targetFromUrl(pilot.nodes[0]?.url as string);
    const through = (hostKey: string) => ({
      ...adminTunnelHop(sshd.host, sshd.user, hostKey),
      sshPort: sshd.port,
      privateKey: sshd.privateKey,
      targets: [target],
    });
    const tunnel = await openAdminTunnel(through(nodeKey.public));
    const nc = await connectNats({
      servers: tunnel.urls,
      user: "akira",
      password: pilot.secrets.clientPassword,
    });
    assert.equal(nc.info?.server_name, "akira-cache-01-staging");
    await nc.close();
    await tunnel.close();

    const other = ed25519KeyPair("someone else");
    const err = await openAdminTunnel(through(other.public)).catch((e) => e);
    assert.ok(err instanceof AkiraNatsError);
    assert.equal(
      err.message,
      `cannot open the admin tunnel through root@127.0.0.1:${sshd.port}: host key ${publicKeyFingerprint(nodeKey.public)} is not the pinned ${publicKeyFingerprint(other.public)} (the host key pinned in the stack: a GA node's generated key, the pilot's pilotHostKey): nothing was sent. If the host was rebuilt or its keys replaced outside Pulumi, check its key on its console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and update the stack (docs/stacks.md, "Host keys"); otherwise treat the connection as intercepted`,
    );
  });

  it("a pin of another algorithm than the host offers is refused, nothing sent", async (t) => {
    const sshd = await startSshd(t);
    const ecdsa =
      "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=";
    const err = await openAdminTunnel({
      ...adminTunnelHop(sshd.host, sshd.user, ecdsa),
      sshPort: sshd.port,
      privateKey: sshd.privateKey,
      targets: [{ host: "127.0.0.1", port: 4222 }],
    }).catch((e) => e);
    assert.ok(err instanceof AkiraNatsError);
    assert.equal(
      err.message,
      `cannot open the admin tunnel through root@127.0.0.1:${sshd.port}: the host offers no ecdsa-sha2-nistp256 host key, the type of the key pinned in the stack: nothing was sent. Pin the key it has (ssh-keyscan 127.0.0.1, checked with ssh-keygen -lf on its console)`,
    );
  });
});

describe("admin tunnel - an admin path that does not answer", () => {
  it("refused at once with where to run from (the stream's read during refresh, drift)", async () => {
    const port = await freePort("127.0.0.1");
    const err = await openAdminTunnel({
      sshHost: "127.0.0.1",
      sshPort: port,
      privateKey: ed25519KeyPair("x").private,
      targets: [{ host: "10.0.0.11", port: 4222 }],
    }).catch((e) => e);
    assert.ok(err instanceof AkiraNatsError);
    assert.equal(
      err.message,
      `cannot reach root@127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}): that is the admin path, SSH on the node, open only to the stack's adminCidrs. Run this from a machine inside adminCidrs (the drift job: a runner inside them, docs/ci-drift.md), or through a bastion (--tunnel-via)`,
    );
  });
});

describe("admin tunnel - URLs", () => {
  it("targetFromUrl takes host and port, default 4222, drops user info", () => {
    assert.deepEqual(targetFromUrl("nats://10.0.1.11:4222"), { host: "10.0.1.11", port: 4222 });
    assert.deepEqual(targetFromUrl("nats://u:p@10.0.1.12"), { host: "10.0.1.12", port: 4222 });
    assert.throws(
      () => targetFromUrl("http://x"),
      /^AkiraNatsError: not a NATS URL: http:\/\/x \(want nats:\/\/host:port\)$/,
    );
  });
});
