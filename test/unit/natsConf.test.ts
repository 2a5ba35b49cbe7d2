import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderNatsConf, renderNatsSecrets } from "../../components/cluster/natsConf";

describe("natsConf - rendered text", () => {
  it("cluster node - exact conf, no secret in it", () => {
    const conf = renderNatsConf({
      serverName: "akira-ga-nats-1",
      clientHost: "0.0.0.0",
      clientAdvertise: "10.0.1.11:4222",
      monitor: { host: "10.0.1.11", port: 8222 },
      storeDir: "/var/lib/nats/jetstream",
      maxFileStoreBytes: 30_000_000_000,
      cluster: {
        name: "akira-ga",
        host: "10.0.1.11",
        peers: [
          { host: "10.0.1.11", port: 6222 },
          { host: "10.0.1.12", port: 6222 },
          { host: "10.0.1.13", port: 6222 },
        ],
      },
    });
    assert.equal(
      conf,
      `# Rendered by akira-nats. Do not edit on the host: the next \`pulumi up\` overwrites it and
# \`akira-nats drift\` reports the difference.
include ./secrets.conf

server_name: "akira-ga-nats-1"
host: "0.0.0.0"
port: 4222
client_advertise: "10.0.1.11:4222"
http: "10.0.1.11:8222"
lame_duck_duration: "30s"
lame_duck_grace_period: "10s"

accounts {
  AKIRA {
    jetstream: enabled
    users: [ { user: "akira", password: $CLIENT_PASSWORD } ]
  }
  SYS {
    users: [ { user: "system", password: $SYSTEM_PASSWORD } ]
  }
}
system_account: SYS

jetstream {
  store_dir: "/var/lib/nats/jetstream"
  max_file_store: 30000000000
  max_memory_store: 268435456
}

cluster {
  name: "akira-ga"
  host: "10.0.1.11"
  port: 6222
  authorization { user: "route", password: $CLUSTER_PASSWORD }
  # 10.0.1.11:6222, 10.0.1.12:6222, 10.0.1.13:6222 (credentials in secrets.conf)
  routes: $CLUSTER_ROUTES
}
`,
    );
  });

  it("pilot - no cluster block, no advertise", () => {
    const conf = renderNatsConf({
      serverName: "akira-cache-01-staging",
      clientHost: "0.0.0.0",
      monitor: { host: "127.0.0.1", port: 8222 },
      storeDir: "/var/lib/nats/jetstream",
      maxFileStoreBytes: 1024,
    });
    assert.doesNotMatch(conf, /cluster|client_advertise|CLUSTER_/);
    assert.match(conf, /^http: "127\.0\.0\.1:8222"$/m);
  });

  it("secrets - route URLs carry the encoded cluster password", () => {
    const text = renderNatsSecrets({
      clientPassword: 'cli"ent\\pw',
      systemPassword: "sys-pw",
      clusterPassword: "cl/us@ter",
      routes: [
        { host: "10.0.1.11", port: 6222 },
        { host: "10.0.1.12", port: 6222 },
      ],
    });
    assert.equal(
      text,
      `# Rendered by akira-nats. Secret: mode 0600, owner nats.
CLIENT_PASSWORD: "cli\\"ent\\\\pw"
SYSTEM_PASSWORD: "sys-pw"
CLUSTER_PASSWORD: "cl/us@ter"
CLUSTER_ROUTES: [ "nats-route://route:cl%2Fus%40ter@10.0.1.11:6222", "nats-route://route:cl%2Fus%40ter@10.0.1.12:6222" ]
`,
    );
  });

  it("secrets - cluster password without routes is refused", () => {
    assert.throws(
      () => renderNatsSecrets({ clientPassword: "a", systemPassword: "b", clusterPassword: "c" }),
      {
        message: "renderNatsSecrets: clusterPassword and routes go together (both or neither)",
      },
    );
  });
});
