/**
 * The real program (index.ts) for both stacks under Pulumi's mocks: exact resource types, counts
 * and key inputs, the outputs, and what a nats-server version bump changes (the roll commands) and
 * does not change (any server).
 */

import assert from "node:assert/strict";
import { before, describe, it, mock } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { renderCloudInit } from "../../components/cluster/cloudInit";
import { ed25519KeyPair, publicKeyFingerprint } from "../../components/cluster/ed25519KeyPair";
import { renderNatsSecrets } from "../../components/cluster/natsConf";
import { renderNodeCommand } from "../../components/cluster/nodeConfigCommand";
import {
  clusterSecretsInput,
  nodeTlsFiles,
  type PlannedNode,
  pilotSecretsInput,
  renderClusterNodeConf,
  renderPilotConf,
} from "../../components/cluster/nodePlan";
import { confChecksum, renderNodeStdin, tlsDirFor } from "../../components/cluster/nodeScript";
import { ConfigError } from "../../components/config/config";
import { maxFileStoreBytes, PRICES_CHECKED, SERVER_TYPES } from "../../components/config/serverTypes";
import { SUPPORT_POLICY } from "../../components/jetstream/serverLines";
import {
  isSecret,
  KNOWN_SECRETS,
  mockCertificate,
  mockHostKeyPair,
  NATS_SHA256,
  NATS_VERSION,
  PILOT_HOST_KEY,
  type ProgramRun,
  type RecordedResource,
  runProgram,
  stackConfig,
  unwrap,
} from "../helpers/pulumiMocks";

const T = {
  network: "hcloud:index/network:Network",
  subnet: "hcloud:index/networkSubnet:NetworkSubnet",
  placement: "hcloud:index/placementGroup:PlacementGroup",
  firewall: "hcloud:index/firewall:Firewall",
  sshKey: "hcloud:index/sshKey:SshKey",
  server: "hcloud:index/server:Server",
  command: "command:remote:Command",
  stream: "pulumi-nodejs:dynamic/akira/jetstream:Stream",
  guard: "pulumi-nodejs:dynamic/akira/cluster:ShapeGuard",
  hostKey: "pulumi-nodejs:dynamic/akira/ssh:HostKey",
  authority: "pulumi-nodejs:dynamic/akira/tls:Authority",
  certificate: "pulumi-nodejs:dynamic/akira/tls:NodeCertificate",
  cluster: "akira:nats:NatsCluster",
  pilot: "akira:nats:PilotNode",
  stack: "pulumi:pulumi:Stack",
};

const GA_NODES: PlannedNode[] = [
  { name: "akira-ga-1", privateIp: "10.0.0.11" },
  { name: "akira-ga-2", privateIp: "10.0.0.12" },
  { name: "akira-ga-3", privateIp: "10.0.0.13" },
];

const keys = (() => {
  const pair = ed25519KeyPair("akira-nats-test");
  return { privateKey: pair.private, publicKey: pair.public };
})();

function typesCount(run: ProgramRun): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of run.mocks.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
}

const inputs = (r: RecordedResource) => unwrap(r.inputs) as Record<string, unknown>;

describe("program - ga stack (cluster on Hetzner)", () => {
  let ga: ProgramRun;
  before(async () => {
    ga = await runProgram("ga", stackConfig("ga", keys));
  });

  it("resources - exact types and counts", () => {
    assert.deepEqual(typesCount(ga), {
      [T.cluster]: 1,
      [T.guard]: 1,
      [T.hostKey]: 3,
      [T.authority]: 1,
      [T.certificate]: 3,
      [T.network]: 1,
      [T.subnet]: 1,
      [T.placement]: 1,
      [T.firewall]: 1,
      [T.sshKey]: 1,
      [T.server]: 3,
      [T.command]: 3,
      [T.stream]: 1,
    });
    assert.deepEqual(ga.mocks.calls, [], "no invoke: preview must not call the Hetzner API");
  });

  it("network - private range, one cloud subnet in the location's zone", () => {
    const network = inputs(ga.mocks.byName("nats-network"));
    assert.equal(network.ipRange, "10.0.0.0/16");
    const subnet = inputs(ga.mocks.byName("nats-subnet"));
    assert.deepEqual(
      { type: subnet.type, networkZone: subnet.networkZone, ipRange: subnet.ipRange },
      { type: "cloud", networkZone: "eu-central", ipRange: "10.0.0.0/24" },
    );
    assert.equal(subnet.networkId, Number(ga.mocks.byName("nats-network").id));
  });

  it("servers - three cx23 in one spread group, numeric ids, fixed private IPs, protected", () => {
    const group = ga.mocks.byName("nats-spread");
    assert.equal(inputs(group).type, "spread");
    const firewall = ga.mocks.byName("nats-firewall");
    const network = ga.mocks.byName("nats-network");
    const sshKey = ga.mocks.byName("nats-ssh-key");
    const servers = ga.mocks.ofType(T.server).map(inputs);
    assert.deepEqual(
      servers.map((s) => s.name),
      GA_NODES.map((n) => n.name),
    );
    for (const [i, s] of servers.entries()) {
      assert.equal(s.serverType, "cx23");
      assert.equal(s.location, "fsn1");
      assert.equal(s.image, "ubuntu-24.04");
      assert.equal(s.placementGroupId, Number(group.id));
      assert.equal(typeof s.placementGroupId, "number");
      assert.deepEqual(s.firewallIds, [Number(firewall.id)]);
      assert.deepEqual(s.sshKeys, [sshKey.id]);
      assert.deepEqual(s.networks, [
        { networkId: Number(network.id), ip: GA_NODES[i]?.privateIp, aliasIps: [] },
      ]);
      assert.deepEqual(s.publicNets, [{ ipv4Enabled: true, ipv6Enabled: false }]);
      assert.equal(s.deleteProtection, true);
      assert.equal(s.rebuildProtection, s.deleteProtection);
      // The node's generated host key, delivered by cloud-init: the user data is a secret.
      const hostKey = mockHostKeyPair(`nats-${GA_NODES[i]?.name}-host-key`);
      assert.equal(
        s.userData,
        renderCloudInit({ privateKey: hostKey.private, publicKey: hostKey.public.trim() }),
      );
      assert.ok(isSecret(ga.mocks.ofType(T.server)[i]?.inputs.userData), "userData holds a private key");
      assert.deepEqual(s.labels, { app: "akira-nats", cluster: "akira-ga", node: GA_NODES[i]?.name });
    }
    // The subnet exists before a server takes an address in it, and the shape guard has passed
    // before any server is touched. What would replace, rebuild or power off a running server is
    // never changed on it; the engine refuses any plan that deletes or replaces it.
    const guard = ga.mocks.byName("nats-shape");
    for (const s of ga.mocks.ofType(T.server)) {
      assert.ok(s.dependencies.includes(ga.mocks.byName("nats-subnet").urn), s.name);
      assert.ok(s.dependencies.includes(guard.urn), s.name);
      assert.deepEqual(s.ignoreChanges, ["userData", "serverType", "image", "sshKeys"], s.name);
      assert.equal(s.protect, true, s.name);
    }
    for (const name of ["nats-network", "nats-subnet"]) {
      const r = ga.mocks.byName(name);
      assert.deepEqual([r.protect, r.dependencies.includes(guard.urn)], [true, true], name);
    }
    for (const name of ["nats-spread", "nats-firewall", "nats-ssh-key"]) {
      const r = ga.mocks.byName(name);
      assert.deepEqual([r.protect, r.dependencies.includes(guard.urn)], [false, true], name);
    }
    // A rotated key replaces the Hetzner key object alone; its unique name needs the old one gone.
    assert.equal(ga.mocks.byName("nats-ssh-key").deleteBeforeReplace, true);
  });

  it("firewall - exactly 22 from adminCidrs and 4222 from clientCidrs; no public 6222/8222", () => {
    assert.deepEqual(inputs(ga.mocks.byName("nats-firewall")).rules, [
      {
        description: "ssh from adminCidrs",
        direction: "in",
        protocol: "tcp",
        port: "22",
        sourceIps: ["85.10.20.30/32"],
      },
      {
        description: "nats clients from clientCidrs",
        direction: "in",
        protocol: "tcp",
        port: "4222",
        sourceIps: ["10.20.0.0/16"],
      },
    ]);
  });

  it("commands - each node's exact script, its conf naming every peer route, secrets on stdin", () => {
    const commands = ga.mocks.ofType(T.command);
    assert.deepEqual(
      commands.map((c) => c.name),
      GA_NODES.map((n) => `nats-${n.name}-config`),
    );
    const secrets = renderNatsSecrets(clusterSecretsInput(KNOWN_SECRETS, GA_NODES));
    for (const [i, c] of commands.entries()) {
      const cert = mockCertificate(`nats-${GA_NODES[i]?.name}-tls`);
      assert.ok(cert);
      const conf = renderClusterNodeConf(
        {
          clusterName: "akira-ga",
          nodes: GA_NODES,
          maxFileStoreBytes: maxFileStoreBytes("cx23"),
          tls: () => nodeTlsFiles(cert.certificate),
        },
        i,
      );
      // Client TLS only, from the node's own certificate directory; routes stay plain.
      assert.match(conf, /^ {2}cert_file: "\/etc\/nats\/tls\/[0-9a-f]{16}\/cert\.pem"$/m);
      assert.doesNotMatch(conf, /allow_non_tls/);
      assert.match(
        conf,
        /# 10\.0\.0\.11:6222, 10\.0\.0\.12:6222, 10\.0\.0\.13:6222 \(credentials in secrets\.conf\)/,
      );
      assert.match(conf, new RegExp(`^  host: "${GA_NODES[i]?.privateIp}"$`, "m"));
      assert.match(conf, new RegExp(`^http: "${GA_NODES[i]?.privateIp}:8222"$`, "m"));
      assert.match(conf, new RegExp(`^client_advertise: "${GA_NODES[i]?.privateIp}:4222"$`, "m"));
      const c0 = inputs(c);
      assert.equal(
        c0.create,
        renderNodeCommand(
          "wait-for-cloud-init",
          {
            natsVersion: NATS_VERSION,
            natsSha256: NATS_SHA256,
            confText: conf,
            monitorUrl: `http://${GA_NODES[i]?.privateIp}:8222`,
            tls: { dir: tlsDirFor("/etc/nats", cert.certificate), certificate: cert.certificate },
          },
          { authorizedKeys: [keys.publicKey] },
        ),
      );
      // secrets.conf, then the node's TLS key: all of it a secret on stdin, none in the text.
      assert.equal(c0.stdin, renderNodeStdin(secrets, cert.privateKey));
      assert.ok(isSecret(c.inputs.stdin));
      assert.doesNotMatch(c0.create as string, /PRIVATE KEY/);
      assert.equal(c0.logging, "none");
      assert.equal(c0.addPreviousOutputInEnv, false);
      assert.equal(c0.triggers, undefined, "triggers would replace the command");
      const connection = c0.connection as Record<string, unknown>;
      assert.deepEqual(
        { host: connection.host, user: connection.user, dialErrorLimit: connection.dialErrorLimit },
        {
          host: `203.0.113.${Number(ga.mocks.byName(`nats-${GA_NODES[i]?.name}`).id) % 250}`,
          user: "root",
          dialErrorLimit: 60,
        },
      );
      assert.equal(connection.privateKey, keys.privateKey);
      // The node's generated host key is pinned: pulumi-command refuses any other.
      assert.equal(connection.hostKey, mockHostKeyPair(`nats-${GA_NODES[i]?.name}-host-key`).public.trim());
      // Ours, plus `connection`, which @pulumi/command itself always marks secret.
      assert.deepEqual(c.additionalSecretOutputs, ["stdin", "stdout", "stderr", "connection"]);
    }
  });

  it("commands - chained: each node's command depends on the previous node's, none on a later one", () => {
    const [c1, c2, c3] = ga.mocks.ofType(T.command) as [RecordedResource, RecordedResource, RecordedResource];
    assert.ok(c2.dependencies.includes(c1.urn));
    assert.ok(c3.dependencies.includes(c2.urn));
    assert.ok(!c1.dependencies.includes(c2.urn) && !c1.dependencies.includes(c3.urn));
    assert.ok(!c2.dependencies.includes(c3.urn));
  });

  it("stream - AKIRA_CDR at R3 on every node, through the tunnel via node 1, after all commands", () => {
    const stream = ga.mocks.ofType(T.stream)[0] as RecordedResource;
    const s = inputs(stream);
    assert.deepEqual(
      {
        streamName: s.streamName,
        replicas: s.replicas,
        subjects: s.subjects,
        servers: s.servers,
        tlsCa: s.tlsCa,
        createIfMissing: s.createIfMissing,
        adminTunnel: s.adminTunnel,
      },
      {
        streamName: "AKIRA_CDR",
        replicas: 3,
        subjects: ["akira.cdr.>"],
        servers: ["tls://10.0.0.11:4222", "tls://10.0.0.12:4222", "tls://10.0.0.13:4222"],
        // The admin path speaks TLS too, trusting the cluster's authority.
        tlsCa: mockCertificate("nats-tls-authority")?.certificate,
        createIfMissing: false,
        adminTunnel: {
          sshHost: `203.0.113.${Number(ga.mocks.byName("nats-akira-ga-1").id) % 250}`,
          sshUser: "root",
          // Pinned to node 1's generated host key, and asking for its algorithm alone.
          hostKeySha256: publicKeyFingerprint(mockHostKeyPair("nats-akira-ga-1-host-key").public),
          hostKeyAlgorithm: "ssh-ed25519",
        },
      },
    );
    for (const c of ga.mocks.ofType(T.command)) assert.ok(stream.dependencies.includes(c.urn), c.name);
    // docs/stacks.md gives this URN for the first `pulumi up --exclude` before the restore.
    assert.equal(
      stream.urn,
      "urn:pulumi:ga::akira-nats::pulumi-nodejs:dynamic/akira/jetstream:Stream::cdr-stream",
    );
  });

  it("outputs - exact", () => {
    const publicIp = (name: string) => `203.0.113.${Number(ga.mocks.byName(`nats-${name}`).id) % 250}`;
    assert.deepEqual(ga.outputs, {
      natsUrl: "tls://10.0.0.11:4222,tls://10.0.0.12:4222,tls://10.0.0.13:4222",
      // Public: what applications trust.
      caCertificate: mockCertificate("nats-tls-authority")?.certificate,
      mode: "cluster",
      nodes: GA_NODES.map((n, i) => ({
        name: n.name,
        address: n.privateIp,
        sshHost: publicIp(n.name),
        // What the node script records after applying the conf: drift compares the host against it.
        confSha256: confChecksum(
          renderClusterNodeConf(
            {
              clusterName: "akira-ga",
              nodes: GA_NODES,
              maxFileStoreBytes: maxFileStoreBytes("cx23"),
              tls: () => nodeTlsFiles(mockCertificate(`nats-${n.name}-tls`)?.certificate ?? ""),
            },
            i,
          ),
        ),
        // The fingerprint of node i's pinned host key.
        sshHostKey: publicKeyFingerprint(mockHostKeyPair(`nats-${n.name}-host-key`).public),
        sshHostKeyType: "ssh-ed25519",
      })),
      clusterName: "akira-ga",
      streamName: "AKIRA_CDR",
      streamReplicas: 3,
      // Three servers at the price table's cx23 list price (components/config/serverTypes.ts owns the figure).
      monthlyCostEur: Math.round((SERVER_TYPES.cx23?.eurPerMonth ?? Number.NaN) * 3 * 100) / 100,
      pricesChecked: PRICES_CHECKED,
    });
  });
});

describe("program - staging stack (the pilot on its existing host)", () => {
  let staging: ProgramRun;
  before(async () => {
    staging = await runProgram("staging", stackConfig("staging", keys));
  });

  it("resources - no Hetzner resource at all, one command, one stream", () => {
    assert.deepEqual(typesCount(staging), { [T.pilot]: 1, [T.command]: 1, [T.stream]: 1 });
    assert.deepEqual(
      staging.mocks.resources.filter((r) => r.type.startsWith("hcloud:")),
      [],
    );
    assert.deepEqual(staging.mocks.calls, []);
  });

  it("command - the pilot conf without cluster block, host prepared, secrets on stdin", () => {
    const c = inputs(staging.mocks.byName("pilot-config"));
    const conf = renderPilotConf({ serverName: "akira-cache-01-staging", maxFileStoreBytes: 10_000_000_000 });
    assert.doesNotMatch(conf, /cluster/);
    assert.equal(
      c.create,
      renderNodeCommand("prepare-host", {
        natsVersion: NATS_VERSION,
        natsSha256: NATS_SHA256,
        confText: conf,
        monitorUrl: "http://127.0.0.1:8222",
      }),
    );
    assert.equal(c.stdin, renderNatsSecrets(pilotSecretsInput(KNOWN_SECRETS)));
    const connection = c.connection as Record<string, unknown>;
    assert.equal(connection.host, "95.216.10.20");
    assert.equal(connection.user, "root");
    assert.equal(connection.hostKey, PILOT_HOST_KEY);
  });

  it("stream - R1 through the tunnel via the pilot, after its command", () => {
    const stream = staging.mocks.ofType(T.stream)[0] as RecordedResource;
    const s = inputs(stream);
    assert.deepEqual(
      [s.replicas, s.servers, s.createIfMissing, s.adminTunnel],
      [
        1,
        ["nats://127.0.0.1:4222"],
        false,
        {
          sshHost: "95.216.10.20",
          sshUser: "root",
          hostKeySha256: publicKeyFingerprint(PILOT_HOST_KEY),
          hostKeyAlgorithm: "ssh-ed25519",
        },
      ],
    );
    assert.ok(stream.dependencies.includes(staging.mocks.byName("pilot-config").urn));
  });

  it("outputs - exact", () => {
    assert.deepEqual(staging.outputs, {
      natsUrl: "nats://95.216.10.20:4222",
      // The pilot runs plain unless pilotClientTls: no authority to trust.
      caCertificate: undefined,
      mode: "single",
      nodes: [
        {
          name: "akira-cache-01-staging",
          address: "95.216.10.20",
          sshHost: "95.216.10.20",
          confSha256: confChecksum(
            renderPilotConf({ serverName: "akira-cache-01-staging", maxFileStoreBytes: 10_000_000_000 }),
          ),
          sshHostKey: publicKeyFingerprint(PILOT_HOST_KEY),
          sshHostKeyType: "ssh-ed25519",
        },
      ],
      clusterName: undefined,
      streamName: "AKIRA_CDR",
      streamReplicas: 1,
      monthlyCostEur: 0,
      pricesChecked: PRICES_CHECKED,
    });
  });
});

describe("program - a nats-server version bump on ga", () => {
  it("changes every node's command text and no server's inputs", async () => {
    const before = await runProgram("ga", stackConfig("ga", keys));
    const after = await runProgram(
      "ga",
      stackConfig("ga", keys, { natsVersion: "2.15.2", natsSha256: "b".repeat(64) }),
    );
    const serverInputs = (run: ProgramRun) => run.mocks.ofType(T.server).map(inputs);
    assert.deepEqual(serverInputs(after), serverInputs(before));
    const create = (run: ProgramRun) => run.mocks.ofType(T.command).map((c) => inputs(c).create as string);
    for (const [i, text] of create(after).entries()) {
      assert.notEqual(text, create(before)[i]);
      assert.match(text, /^readonly VERSION='2\.15\.2'$/m);
      assert.match(text, new RegExp(`^readonly SHA256='${"b".repeat(64)}'$`, "m"));
    }
    // Nothing else of the commands changes: same connection, same stdin.
    const rest = (run: ProgramRun) =>
      run.mocks.ofType(T.command).map((c) => {
        const { create: _create, ...others } = inputs(c);
        return others;
      });
    assert.deepEqual(rest(after), rest(before));
  });
});

describe("program - preview warnings", () => {
  it("the staging pin against what the pilot runs reaches pulumi's warnings", async (t) => {
    const warn = mock.method(pulumi.log, "warn", () => {});
    t.after(() => warn.mock.restore());
    await runProgram(
      "staging",
      stackConfig("staging", keys, { pilotRunningVersion: "2.15.0", acceptPilotVersionChange: "false" }),
    );
    assert.deepEqual(
      warn.mock.calls.map((c) => c.arguments[0]),
      [
        `the first \`pulumi up\` on staging changes the pilot's nats-server from 2.15.0 to ${NATS_VERSION}: back up its stream first (akira-nats stream backup)`,
      ],
    );
  });
  it("staging without pilotRunningVersion: the warning to set it", async (t) => {
    const warn = mock.method(pulumi.log, "warn", () => {});
    t.after(() => warn.mock.restore());
    await runProgram("staging", stackConfig("staging", keys));
    assert.deepEqual(
      warn.mock.calls.map((c) => c.arguments[0]),
      [
        "akira-nats:pilotRunningVersion is not set: preview cannot say whether the first `pulumi up` on staging changes the pilot's nats-server. Set it to what the pilot runs (the cutover's preflight prints it): pulumi config set akira-nats:pilotRunningVersion <x.y.z>",
      ],
    );
  });
  it("a pin more than one minor line behind the newest release: a warning quoting the support policy, and the stack still deploys", async (t) => {
    const warn = mock.method(pulumi.log, "warn", () => {});
    t.after(() => warn.mock.restore());
    const run = await runProgram(
      "ga",
      stackConfig("ga", keys, { natsVersion: "2.12.12", natsSha256: "c".repeat(64) }),
    );
    assert.deepEqual(
      warn.mock.calls.map((c) => c.arguments[0]),
      [
        `akira-nats:natsVersion 2.12.12 is 3 minor lines behind 2.15.1, the newest release known on 2026-12-03: ${SUPPORT_POLICY}. Plan the move (docs/rolling-upgrades.md)`,
      ],
    );
    assert.equal(run.mocks.ofType(T.server).length, 3);
  });
  it("the pinned release on ga: no warning", async (t) => {
    const warn = mock.method(pulumi.log, "warn", () => {});
    t.after(() => warn.mock.restore());
    await runProgram("ga", stackConfig("ga", keys));
    assert.deepEqual(
      warn.mock.calls.map((c) => c.arguments[0]),
      [],
    );
  });
  it("a pin inside an advisory's range: the program refuses before declaring anything", async () => {
    await assert.rejects(
      runProgram("ga", stackConfig("ga", keys, { natsVersion: "2.14.2" })),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(
          err.message,
          [
            "stack config has 1 problem; nothing was deployed:",
            "  - akira-nats:natsVersion is 2.14.2, inside the affected range of GHSA-7qmq-8cc4-hxwg / NATS-2026-26 (MQTT retained and QoS 1+ replayed messages bypass subscribe deny rules; fixed in 2.12.12/2.14.3): move to 2.14.3 (advisories checked 2026-12-03)",
            `      fix: pulumi config set akira-nats:natsVersion ${NATS_VERSION}`,
          ].join("\n"),
        );
        return true;
      },
    );
  });
});

describe("program - optional stream settings", () => {
  const SETTING_INPUTS = [
    "storage",
    "retention",
    "discard",
    "maxAgeSeconds",
    "maxBytes",
    "maxMsgs",
    "duplicateWindowSeconds",
  ];
  const settingInputs = (run: ProgramRun) => {
    const s = inputs(run.mocks.ofType(T.stream)[0] as RecordedResource);
    return Object.fromEntries(SETTING_INPUTS.filter((k) => k in s).map((k) => [k, s[k]]));
  };

  it("unset: the stream resource manages none of them", async () => {
    assert.deepEqual(settingInputs(await runProgram("ga", stackConfig("ga", keys))), {});
  });

  it("set: each reaches the stream resource typed, as declared", async () => {
    const run = await runProgram(
      "ga",
      stackConfig("ga", keys, {
        streamStorage: "file",
        streamRetention: "limits",
        streamDiscard: "old",
        streamMaxAgeSeconds: "34560000",
        streamMaxBytes: "500000000000",
        streamMaxMsgs: "-1",
        streamDuplicateWindowSeconds: "120",
      }),
    );
    assert.deepEqual(settingInputs(run), {
      storage: "file",
      retention: "limits",
      discard: "old",
      maxAgeSeconds: 34560000,
      maxBytes: 500000000000,
      maxMsgs: -1,
      duplicateWindowSeconds: 120,
    });
  });
});

describe("program - the Hetzner token from HCLOUD_TOKEN, as the provider reads it", () => {
  const withoutToken = () => {
    const config = stackConfig("ga", keys);
    delete config["hcloud:token"];
    return config;
  };
  const saved = process.env.HCLOUD_TOKEN;
  const restore = () => {
    if (saved === undefined) delete process.env.HCLOUD_TOKEN;
    else process.env.HCLOUD_TOKEN = saved;
  };

  it("a valid HCLOUD_TOKEN stands in for hcloud:token", async () => {
    process.env.HCLOUD_TOKEN = KNOWN_SECRETS.hcloudToken;
    try {
      const run = await runProgram("ga", withoutToken());
      assert.equal(run.mocks.ofType(T.server).length, 3);
    } finally {
      restore();
    }
  });

  it("neither set: refused with the config error naming hcloud:token", async () => {
    delete process.env.HCLOUD_TOKEN;
    try {
      await assert.rejects(runProgram("ga", withoutToken()), (err: Error) => {
        assert.equal(err.name, "ConfigError");
        assert.match(err.message, /^ {2}- hcloud:token is not set \(required in cluster mode\)$/m);
        return true;
      });
    } finally {
      restore();
    }
  });
});
