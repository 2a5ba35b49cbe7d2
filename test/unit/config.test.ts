import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RunError } from "@pulumi/pulumi";
import {
  ConfigError,
  keysToReplace,
  loadStackConfig,
  parseStackConfig,
  readStackConfig,
} from "../../components/config/config";
import { PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";
import {
  GENERATE,
  gaRaw,
  KEY_PAIR,
  OTHER_KEY_PAIR,
  PASSWORDS,
  PILOT_HOST_KEY,
  type Raw,
  SHA,
  stagingRaw,
} from "./configFixtures";

function issuesOf(raw: Raw) {
  const result = parseStackConfig(raw);
  assert.equal(result.ok, false, "expected the config to be refused");
  return result.ok ? [] : result.issues;
}

describe("config - valid stacks parse to exact values", () => {
  it("ga - every key typed, defaults applied", () => {
    const result = parseStackConfig(gaRaw());
    assert.deepEqual(result, {
      ok: true,
      config: {
        mode: "cluster",
        natsVersion: PINNED_NATS_VERSION,
        natsSha256: SHA,
        pilotHost: "pilot.akira.internal",
        pilotName: "akira-cache-01-staging",
        pilotSshUser: "root",
        pilotMaxFileStoreGb: 10,
        acceptPilotVersionChange: false,
        pilotHostKey: "",
        clusterName: "akira-ga",
        nodeCount: 3,
        serverType: "cx23",
        location: "fsn1",
        image: "ubuntu-24.04",
        privateNetworkCidr: "10.0.0.0/16",
        adminCidrs: ["100.64.10.0/24"],
        acceptAdminFromAnywhere: false,
        clientCidrs: ["172.20.0.0/16", "10.10.0.0/16"],
        sshPublicKey: KEY_PAIR.public,
        sshNextPublicKey: "",
        acceptLiveChange: [],
        nodeHostKeys: [],
        tlsCertificateDays: 365,
        tlsRenewBeforeDays: 30,
        pilotClientTls: false,
        absorbPilot: false,
        acceptPilotAbsorbRisk: false,
        streamName: "AKIRA_CDR",
        streamReplicas: 3,
        streamSubjects: ["akira.cdr.>"],
        streamSettings: {},
        clusterPassword: PASSWORDS.clusterPassword,
        clientPassword: PASSWORDS.clientPassword,
        systemPassword: PASSWORDS.systemPassword,
        sshPrivateKey: KEY_PAIR.private,
      },
      warnings: [],
    });
  });

  it("staging - defaults for every unset key, no cluster password, no Hetzner token needed", () => {
    const result = parseStackConfig(stagingRaw({ clusterPassword: PASSWORDS.clusterPassword }));
    assert.deepEqual(result, {
      ok: true,
      config: {
        mode: "single",
        natsVersion: PINNED_NATS_VERSION,
        natsSha256: SHA,
        pilotHost: "10.20.30.40",
        pilotName: "akira-cache-01-staging",
        pilotSshUser: "root",
        pilotMaxFileStoreGb: 10,
        acceptPilotVersionChange: false,
        pilotHostKey: PILOT_HOST_KEY,
        clusterName: "akira-ga",
        nodeCount: 1,
        serverType: "cx23",
        location: "fsn1",
        image: "ubuntu-24.04",
        privateNetworkCidr: "10.0.0.0/16",
        adminCidrs: [],
        acceptAdminFromAnywhere: false,
        clientCidrs: [],
        sshPublicKey: "",
        sshNextPublicKey: "",
        acceptLiveChange: [],
        nodeHostKeys: [],
        tlsCertificateDays: 365,
        tlsRenewBeforeDays: 30,
        pilotClientTls: false,
        absorbPilot: false,
        acceptPilotAbsorbRisk: false,
        streamName: "AKIRA_CDR",
        streamReplicas: 1,
        streamSubjects: ["akira.cdr.>"],
        streamSettings: {},
        clientPassword: PASSWORDS.clientPassword,
        systemPassword: PASSWORDS.systemPassword,
        sshPrivateKey: KEY_PAIR.private,
      },
      // stagingRaw() leaves pilotRunningVersion unset (test/unit/natsAdvisories.test.ts has every warning).
      warnings: [
        "akira-nats:pilotRunningVersion is not set: preview cannot say whether the first `pulumi up` on staging changes the pilot's nats-server. Set it to what the pilot runs (the cutover's preflight prints it): pulumi config set akira-nats:pilotRunningVersion <x.y.z>",
      ],
    });
  });

  it("values are trimmed, the SHA-256 lowercased, empty strings take the default", () => {
    const result = parseStackConfig(
      gaRaw({ natsSha256: ` ${SHA.toUpperCase()} `, nodeCount: " 5 ", streamName: "", pilotName: "" }),
    );
    assert.ok(result.ok);
    assert.equal(result.config.natsSha256, SHA);
    assert.equal(result.config.nodeCount, 5);
    assert.equal(result.config.streamName, "AKIRA_CDR");
    assert.equal(result.config.pilotName, "akira-cache-01-staging");
  });
});

describe("config - every problem at once", () => {
  it("an empty cluster config lists every missing key with its command", () => {
    const issues = issuesOf({ mode: "cluster" });
    assert.deepEqual(
      issues.map((i) => [i.key, i.rule, i.code]),
      [
        ["natsVersion", "is not set", "missing"],
        ["natsSha256", "is not set", "missing"],
        ["pilotHost", "is not set", "missing"],
        ["nodeCount", "is not set", "missing"],
        [
          "adminCidrs",
          "must list at least one CIDR in cluster mode: nothing could reach SSH on the nodes",
          "invalid",
        ],
        [
          "clientCidrs",
          "must list at least one CIDR in cluster mode: no application could reach port 4222",
          "invalid",
        ],
        ["sshPublicKey", "is not set (required in cluster mode)", "missing"],
        ["streamReplicas", "is not set", "missing"],
        ["clusterPassword", "is not set (required in cluster mode)", "missing"],
        ["clientPassword", "is not set", "missing"],
        ["systemPassword", "is not set", "missing"],
        ["sshPrivateKey", "is not set", "missing"],
        ["hcloud:token", "is not set (required in cluster mode)", "missing"],
      ],
    );
    assert.deepEqual(
      issues.map((i) => i.fix),
      [
        `pulumi config set akira-nats:natsVersion ${PINNED_NATS_VERSION}`,
        "pulumi config set akira-nats:natsSha256 <64 hex digits from SHA256SUMS>",
        "pulumi config set akira-nats:pilotHost <pilot host address>",
        "pulumi config set akira-nats:nodeCount 3",
        "pulumi config set --path 'akira-nats:adminCidrs[0]' <admin CIDR, e.g. your office /32>",
        "pulumi config set --path 'akira-nats:clientCidrs[0]' <application CIDR>",
        `pulumi config set akira-nats:sshPublicKey "$(cat ~/.ssh/akira_nats_ed25519.pub)"`,
        "pulumi config set akira-nats:streamReplicas 3",
        `pulumi config set --secret akira-nats:clusterPassword ${GENERATE}`,
        `pulumi config set --secret akira-nats:clientPassword ${GENERATE}`,
        `pulumi config set --secret akira-nats:systemPassword ${GENERATE}`,
        "pulumi config set --secret akira-nats:sshPrivateKey < ~/.ssh/akira_nats_ed25519",
        "pulumi config set --secret hcloud:token <64-character API token from the Hetzner Cloud Console>",
      ],
    );
  });

  it("without a valid mode only the mode-independent rules run", () => {
    const issues = issuesOf({});
    assert.deepEqual(
      issues.map((i) => i.key),
      [
        "mode",
        "natsVersion",
        "natsSha256",
        "pilotHost",
        "nodeCount",
        "streamReplicas",
        "clientPassword",
        "systemPassword",
        "sshPrivateKey",
      ],
    );
  });

  it("ConfigError - the exact message: summary, keys still to replace, every issue and its fix", () => {
    const raw = gaRaw({
      pilotHost: "CHANGEME",
      adminCidrs: '["<your office /32>"]',
      nodeCount: "4",
      streamReplicas: "5",
      clientPassword: "tooshort",
    });
    assert.throws(
      () => loadStackConfig((k) => raw[k]),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.name, "ConfigError");
        // pulumi up prints a RunError's message without the stack trace.
        assert.equal(RunError.isInstance(err), true);
        assert.equal(
          err.message,
          [
            "stack config has 6 problems; nothing was deployed:",
            "  still to replace (runbook step 3): akira-nats:pilotHost, akira-nats:adminCidrs",
            '  - akira-nats:pilotHost still holds a placeholder: "CHANGEME"; replace it with the real value',
            "      fix: pulumi config set akira-nats:pilotHost <pilot host address>",
            "  - akira-nats:nodeCount must be odd and from 3 to 9 in cluster mode, so the JetStream meta group keeps a majority with a node down, not 4",
            "      fix: pulumi config set akira-nats:nodeCount 3",
            '  - akira-nats:adminCidrs still holds a placeholder in entry 0: "<your office /32>"; replace it with the real value',
            "      fix: pulumi config set --path 'akira-nats:adminCidrs[0]' <admin CIDR, e.g. your office /32>",
            "  - akira-nats:streamReplicas must be at most nodeCount (4): JetStream cannot place 5 replicas on 4 servers (error 10005), not 5",
            "      fix: pulumi config set akira-nats:streamReplicas 3",
            "  - akira-nats:clientPassword must be at least 16 characters long",
            `      fix: pulumi config set --secret akira-nats:clientPassword ${GENERATE}`,
            "  - akira-nats:clientPassword must mix at least two kinds of characters (lowercase, uppercase, digits, symbols)",
            `      fix: pulumi config set --secret akira-nats:clientPassword ${GENERATE}`,
          ].join("\n"),
        );
        assert.deepEqual(keysToReplace(err.issues), ["pilotHost", "adminCidrs"]);
        return true;
      },
    );
  });

  it("loadStackConfig reads every key through the getter, provider keys qualified", () => {
    const raw = gaRaw();
    const asked: string[] = [];
    const config = loadStackConfig((k) => {
      asked.push(k);
      return raw[k];
    });
    assert.equal(config.mode, "cluster");
    assert.ok(asked.includes("hcloud:token"));
    assert.ok(asked.includes("nodeCount"));
    assert.equal(asked.length, 43);
  });

  it("readStackConfig returns the config with its warnings; loadStackConfig the same config alone", () => {
    const raw = stagingRaw({ pilotRunningVersion: "2.15.0" });
    const loaded = readStackConfig((k) => raw[k]);
    assert.deepEqual(
      loaded.config,
      loadStackConfig((k) => raw[k]),
    );
    assert.deepEqual(loaded.warnings, [
      `the first \`pulumi up\` on staging changes the pilot's nats-server from 2.15.0 to ${PINNED_NATS_VERSION}: back up its stream first (akira-nats stream backup)`,
    ]);
  });

  it("readStackConfig throws the same ConfigError as loadStackConfig", () => {
    const raw = gaRaw({ nodeCount: "4" });
    assert.throws(() => readStackConfig((k) => raw[k]), ConfigError);
  });
});

describe("config - no secret value ever appears in a message", () => {
  const bad = {
    clusterPassword: "$2a$10$ClusterSecretValue",
    clientPassword: "weakweakweakweakweak",
    systemPassword: "Sys Tem Pass Word 1",
    "hcloud:token": "tok-SECRET-bad-token",
    sshPrivateKey:
      "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETBODYSECRETBODY\n-----END OPENSSH PRIVATE KEY-----\n",
  };
  const scenarios: Record<string, Raw> = {
    "every secret breaks a rule": gaRaw(bad),
    "placeholders inside secrets": gaRaw({ clientPassword: "CHANGEME-MySecretTail", systemPassword: "xxx" }),
    "the same password three times": gaRaw({
      systemPassword: PASSWORDS.clientPassword,
      clusterPassword: PASSWORDS.clientPassword,
    }),
    "valid secrets, other keys broken": gaRaw({
      nodeCount: "2",
      pilotHost: "CHANGEME",
      sshPublicKey: KEY_PAIR.private,
    }),
  };
  const secretsOf = (raw: Raw) =>
    ["clusterPassword", "clientPassword", "systemPassword", "hcloud:token", "sshPrivateKey"].flatMap((k) => {
      const value = raw[k] ?? "";
      // Multi-line keys: every line of the key body must stay out of the message too.
      return [value, ...value.split("\n").filter((line) => line.length >= 16 && !line.startsWith("-----"))];
    });

  for (const [name, raw] of Object.entries(scenarios)) {
    it(name, () => {
      let message = "";
      assert.throws(
        () => loadStackConfig((k) => raw[k]),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          message = [err.message, ...err.issues.flatMap((i) => [i.rule, i.fix])].join("\n");
          return true;
        },
      );
      for (const value of secretsOf(raw).filter((v) => v !== "")) {
        assert.equal(message.includes(value), false, `a secret value leaked into: ${message}`);
      }
      // The private key pasted as sshPublicKey is refused without being quoted either.
      for (const line of KEY_PAIR.private
        .split("\n")
        .filter((l) => l.length >= 16 && !l.startsWith("-----"))) {
        assert.equal(message.includes(line), false);
      }
    });
  }

  it("every secret scenario is refused for the secret keys themselves", () => {
    const result = parseStackConfig(gaRaw(bad));
    assert.ok(!result.ok);
    assert.deepEqual(
      [...new Set(result.issues.map((i) => i.key))],
      ["clusterPassword", "clientPassword", "systemPassword", "sshPrivateKey", "hcloud:token"],
    );
  });
});

describe("config - host keys, key rotation and accepted live changes", () => {
  it("staging without pilotHostKey: missing, with the command that sets it", () => {
    const issues = issuesOf(stagingRaw({ pilotHostKey: "" }));
    assert.deepEqual(
      issues.map((i) => [i.key, i.rule, i.fix]),
      [
        [
          "pilotHostKey",
          "is not set (required in single mode)",
          "pulumi config set akira-nats:pilotHostKey '<ssh-keyscan -t ecdsa,ed25519 pilot line, checked on its console>'",
        ],
      ],
    );
  });

  it("malformed keys and entries: each refused with the key named", () => {
    const issues = issuesOf(
      gaRaw({
        pilotHostKey: "pilot.akira.internal ssh-ed25519 not-base64",
        sshNextPublicKey: "ssh-ed25519",
        nodeHostKeys: JSON.stringify(["akira-ga-1", `akira-ga-2 ${KEY_PAIR.public}`]),
        acceptLiveChange: JSON.stringify(["serverType=cx33", "location=hel1"]),
      }),
    );
    assert.deepEqual(
      issues.map((i) => [i.key, i.rule]),
      [
        [
          "pilotHostKey",
          "must be the host's public key, as its known_hosts line or \"ssh-ed25519 AAAA…\" (ssh-keyscan -t ecdsa,ed25519 <host>, checked against ssh-keygen -lf on the host's console)",
        ],
        [
          "sshNextPublicKey",
          'must be empty or an OpenSSH public key line such as "ssh-ed25519 AAAA… comment" (the .pub file)',
        ],
        [
          "nodeHostKeys",
          'entry 0 "akira-ga-1" is not <node name> <public key> (akira-ga-1 ssh-ed25519 AAAA…)',
        ],
        ["acceptLiveChange", 'entry 1 "location=hel1" is not serverType=<type> or image=<image>'],
      ],
    );
  });

  it("valid values parse: the pilot's known_hosts line keeps only its key", () => {
    const result = parseStackConfig(
      gaRaw({
        pilotHostKey: `pilot.akira.internal ${OTHER_KEY_PAIR.public}`,
        sshNextPublicKey: OTHER_KEY_PAIR.public,
        nodeHostKeys: JSON.stringify([`akira-ga-2 ${KEY_PAIR.public}`]),
        acceptLiveChange: JSON.stringify(["serverType=cx33"]),
      }),
    );
    assert.ok(result.ok);
    const c = result.config;
    assert.deepEqual(
      [c.pilotHostKey, c.sshNextPublicKey, c.nodeHostKeys, c.acceptLiveChange],
      [
        OTHER_KEY_PAIR.public.split(" ").slice(0, 2).join(" "),
        OTHER_KEY_PAIR.public,
        [`akira-ga-2 ${KEY_PAIR.public}`],
        ["serverType=cx33"],
      ],
    );
  });
});

describe("config - client TLS settings", () => {
  it("malformed days and a renewal window as long as the validity: each refused with its key", () => {
    assert.deepEqual(
      issuesOf(gaRaw({ tlsCertificateDays: "a year", tlsRenewBeforeDays: "0" })).map((i) => i.key),
      ["tlsCertificateDays", "tlsRenewBeforeDays"],
    );
    const window = issuesOf(gaRaw({ tlsCertificateDays: "30", tlsRenewBeforeDays: "30" }));
    assert.deepEqual(
      window.map((i) => [i.key, i.rule, i.fix]),
      [
        [
          "tlsCertificateDays",
          "must be more than tlsRenewBeforeDays (30), not 30: a certificate would be renewed, and every node rolled, on every pulumi up",
          "pulumi config set akira-nats:tlsCertificateDays 365",
        ],
      ],
    );
  });

  it("pilotClientTls must be a boolean", () => {
    assert.deepEqual(
      issuesOf(stagingRaw({ pilotClientTls: "yes" })).map((i) => i.key),
      ["pilotClientTls"],
    );
  });
});
