import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openAdminTunnel, sshFingerprint, targetFromUrl } from "../../components/adminTunnel";
import { connectNats } from "../../components/jetstream/connection";
import { AkiraNatsError } from "../../components/jetstream/errors";
import { startPilot } from "../helpers/localNats";
import { sshdUnavailable, startSshd } from "../helpers/localSshd";

const skip = sshdUnavailable();
const fingerprintOf = (publicKeyLine: string) =>
  sshFingerprint(Buffer.from(publicKeyLine.split(" ")[1] as string, "base64"));
const regexpQuote = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

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

  it("a different host key is refused with the fingerprints", async (t) => {
    const sshd = await startSshd(t);
    const err = await openAdminTunnel({
      sshHost: sshd.host,
      sshPort: sshd.port,
      privateKey: sshd.privateKey,
      hostKeySha256: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      targets: [{ host: "127.0.0.1", port: 4222 }],
    }).catch((e) => e);
    assert.ok(err instanceof AkiraNatsError);
    assert.match(
      err.message,
      new RegExp(
        `^cannot open the admin tunnel through root@127\\.0\\.0\\.1:${sshd.port}: host key ${regexpQuote(fingerprintOf(sshd.hostPublicKey))} is not the pinned SHA256:A{43} \\(the key the node reported when its config command last ran\\): nothing was sent\\. If the node was rebuilt outside Pulumi, re-run its config command \\(pulumi up --replace <its command URN>\\); otherwise treat the connection as intercepted$`,
      ),
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
