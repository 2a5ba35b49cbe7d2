import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { networkZoneFor, nodePrivateIps, subnetCidr } from "../../components/cluster/network";
import {
  clusterNodeNames,
  clusterSecretsInput,
  type PlannedNode,
  renderClusterNodeConf,
  renderPilotConf,
} from "../../components/cluster/nodePlan";

const NODES: PlannedNode[] = [
  { name: "akira-ga-1", privateIp: "10.0.1.11" },
  { name: "akira-ga-2", privateIp: "10.0.1.12" },
  { name: "akira-ga-3", privateIp: "10.0.1.13" },
];

describe("natsCluster plan - addresses", () => {
  it("private IPs - offset 11 in the subnet, whatever the CIDR's host bits", () => {
    assert.deepEqual(nodePrivateIps("10.0.1.0/24", 3), ["10.0.1.11", "10.0.1.12", "10.0.1.13"]);
    assert.deepEqual(nodePrivateIps("10.0.0.0/16", 5), [
      "10.0.0.11",
      "10.0.0.12",
      "10.0.0.13",
      "10.0.0.14",
      "10.0.0.15",
    ]);
    assert.deepEqual(nodePrivateIps("172.16.5.77/24", 1), ["172.16.5.11"]);
  });

  it("subnet - the network's first /24, or the network itself when it is that small", () => {
    assert.equal(subnetCidr("10.0.0.0/16"), "10.0.0.0/24");
    assert.equal(subnetCidr("10.0.7.0/24"), "10.0.7.0/24");
    assert.equal(subnetCidr("10.0.7.64/26"), "10.0.7.64/26");
  });

  it("private IPs - too small or malformed CIDR refused", () => {
    assert.throws(() => nodePrivateIps("10.0.1.0/28", 5), {
      message:
        "privateNetworkCidr 10.0.1.0/28 is too small for 5 nodes starting at offset 11: use a /24 or larger",
    });
    assert.throws(() => nodePrivateIps("10.0.1.0", 3), {
      message: 'privateNetworkCidr "10.0.1.0" is not an IPv4 CIDR such as 10.0.1.0/24',
    });
  });

  it("network zone - per location, unknown location names the fix", () => {
    assert.equal(networkZoneFor("fsn1"), "eu-central");
    assert.equal(networkZoneFor("ash"), "us-east");
    assert.throws(() => networkZoneFor("mars1"), {
      message:
        'unknown Hetzner location "mars1": use one of fsn1, nbg1, hel1, ash, hil, sin (pulumi config set akira-nats:location fsn1)',
    });
  });

  it("node names - cluster name and index", () => {
    assert.deepEqual(clusterNodeNames("akira-ga", 3), ["akira-ga-1", "akira-ga-2", "akira-ga-3"]);
  });
});

describe("natsCluster plan - rendered configs", () => {
  it("cluster node - exact nats-server.conf of node 2", () => {
    assert.equal(
      renderClusterNodeConf({ clusterName: "akira-ga", nodes: NODES, maxFileStoreBytes: 32212254720 }, 1),
      `# Rendered by akira-nats. Do not edit on the host: the next \`pulumi up\` overwrites it and
# \`akira-nats drift\` reports the difference.
include ./secrets.conf

server_name: "akira-ga-2"
host: "0.0.0.0"
port: 4222
client_advertise: "10.0.1.12:4222"
http: "10.0.1.12:8222"
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
  store_dir: "/var/lib/nats"
  max_file_store: 32212254720
  max_memory_store: 268435456
}

cluster {
  name: "akira-ga"
  host: "10.0.1.12"
  port: 6222
  authorization { user: "route", password: $CLUSTER_PASSWORD }
  # 10.0.1.11:6222, 10.0.1.12:6222, 10.0.1.13:6222 (credentials in secrets.conf)
  routes: $CLUSTER_ROUTES
}
`,
    );
  });

  it("cluster secrets - every peer's route, password required", () => {
    assert.deepEqual(
      clusterSecretsInput({ clientPassword: "c", systemPassword: "s", clusterPassword: "r" }, NODES),
      {
        clientPassword: "c",
        systemPassword: "s",
        clusterPassword: "r",
        routes: [
          { host: "10.0.1.11", port: 6222 },
          { host: "10.0.1.12", port: 6222 },
          { host: "10.0.1.13", port: 6222 },
        ],
      },
    );
    assert.throws(() => clusterSecretsInput({ clientPassword: "c", systemPassword: "s" }, NODES), {
      message:
        "clusterPassword is required in cluster mode: pulumi config set --secret akira-nats:clusterPassword <password>",
    });
  });

  it("pilot - no cluster block, monitoring on loopback, no client_advertise", () => {
    const conf = renderPilotConf({ serverName: "akira-cache-01-staging", maxFileStoreBytes: 1073741824 });
    assert.match(conf, /^server_name: "akira-cache-01-staging"$/m);
    assert.match(conf, /^http: "127\.0\.0\.1:8222"$/m);
    assert.match(conf, /^host: "0\.0\.0\.0"$/m);
    assert.doesNotMatch(conf, /cluster|client_advertise|ROUTES/);
  });
});
