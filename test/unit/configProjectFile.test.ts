import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import {
  CONFIG_KEYS,
  type ConfigKeySpec,
  keysToReplace,
  parseStackConfig,
  qualifiedKey,
} from "../../components/config/config";
import { KEY_PAIR, PASSWORDS, SHA, TOKEN } from "./configFixtures";

const ROOT = join(__dirname, "..", "..");
const readYaml = (file: string) => parse(readFileSync(join(ROOT, file), "utf8")) as Record<string, unknown>;
const SPECS = Object.entries(CONFIG_KEYS) as [string, ConfigKeySpec][];

/** What Pulumi hands the program for a stack-file value: scalars as text, lists as JSON. */
function stackRaw(file: string): Record<string, string> {
  const config = (readYaml(file).config ?? {}) as Record<string, unknown>;
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const name = key.startsWith("akira-nats:") ? key.slice("akira-nats:".length) : key;
    raw[name] = typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return raw;
}

const SECRETS = {
  ...PASSWORDS,
  sshPrivateKey: KEY_PAIR.private,
  "hcloud:token": TOKEN,
};

describe("Pulumi.yaml - one source of truth with CONFIG_KEYS", () => {
  const project = readYaml("Pulumi.yaml");

  it("project name, runtime through tsx", () => {
    assert.equal(project.name, "akira-nats");
    assert.equal(project.main, "index.ts");
    assert.deepEqual(project.runtime, {
      name: "nodejs",
      options: { typescript: false, nodeargs: "--import tsx", packagemanager: "npm" },
    });
  });

  it("the config section declares exactly the keys of CONFIG_KEYS, with their type, secrecy and default", () => {
    const expected: Record<string, unknown> = {};
    for (const [name, spec] of SPECS) {
      if (!spec.inProjectFile) continue;
      expected[qualifiedKey(name)] = {
        type: spec.type,
        ...(spec.type === "array" ? { items: { type: "string" } } : {}),
        description: spec.description,
        ...(spec.secret ? { secret: true } : {}),
        ...(spec.default !== undefined ? { default: spec.default } : {}),
      };
    }
    assert.deepEqual(project.config, expected);
  });

  it("only provider keys stay out of Pulumi.yaml, and secrets carry no default (Pulumi refuses one)", () => {
    assert.deepEqual(
      SPECS.filter(([, s]) => !s.inProjectFile).map(([n]) => n),
      ["hcloud:token"],
    );
    assert.deepEqual(
      SPECS.filter(([, s]) => s.secret && s.default !== undefined).map(([n]) => n),
      [],
    );
  });

  it("every key of the stack-config contract keeps its name", () => {
    const contract = [
      "mode",
      "natsVersion",
      "natsSha256",
      "pilotHost",
      "pilotName",
      "clusterName",
      "nodeCount",
      "serverType",
      "location",
      "image",
      "privateNetworkCidr",
      "adminCidrs",
      "clientCidrs",
      "sshPublicKey",
      "absorbPilot",
      "acceptPilotAbsorbRisk",
      "streamName",
      "streamReplicas",
      "clusterPassword",
      "clientPassword",
      "systemPassword",
      "sshPrivateKey",
      "hcloud:token",
    ];
    assert.deepEqual(
      SPECS.filter(([, s]) => s.contract).map(([n]) => n),
      contract,
    );
  });
});

/**
 * Pulumi's own checks of a stack against Pulumi.yaml, restated (pulumi/pulumi
 * sdk/go/common/workspace/project.go: Project.Validate, ValidateConfigValue,
 * ValidateStackConfigAndApplyProjectConfig), so a stack file that Pulumi would refuse before the
 * program starts fails here instead.
 */
function pulumiAccepts(type: string, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return Number.isInteger(value) || (typeof value === "string" && /^[-+]?\d+$/.test(value));
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    case "array":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    default:
      return false;
  }
}

describe("Pulumi's own checks pass, so the validator gets to report", () => {
  const project = readYaml("Pulumi.yaml");
  const declared = project.config as Record<string, { type: string; default?: unknown; items?: unknown }>;

  it("Pulumi.yaml - arrays name their items, defaults match their type", () => {
    for (const [key, decl] of Object.entries(declared)) {
      assert.ok(key.startsWith("akira-nats:"), key);
      if (decl.type === "array") assert.deepEqual(decl.items, { type: "string" }, key);
      if (decl.default !== undefined) assert.ok(pulumiAccepts(decl.type, decl.default), key);
    }
  });

  for (const file of ["Pulumi.staging.yaml", "Pulumi.ga.yaml"]) {
    it(`${file} - every value has its declared type, every non-secret key without default is set`, () => {
      const config = readYaml(file).config as Record<string, unknown>;
      for (const [key, value] of Object.entries(config)) {
        const decl = declared[key];
        assert.ok(decl, `${key} is not declared in Pulumi.yaml`);
        assert.ok(pulumiAccepts(decl.type, value), `${key}: Pulumi wants ${decl.type}`);
      }
      const unset = Object.entries(declared)
        .filter(([key, decl]) => decl.default === undefined && !(key in config))
        .map(([key]) => key);
      // Only the secrets are left for `pulumi config set --secret`.
      assert.deepEqual(unset, [
        "akira-nats:clusterPassword",
        "akira-nats:clientPassword",
        "akira-nats:systemPassword",
        "akira-nats:sshPrivateKey",
      ]);
    });
  }
});

describe("stack files - placeholders until the operator replaces them", () => {
  for (const [file, toReplace] of [
    ["Pulumi.staging.yaml", ["pilotHost", "pilotHostKey", "natsSha256"]],
    ["Pulumi.ga.yaml", ["natsSha256", "pilotHost", "adminCidrs", "clientCidrs", "sshPublicKey"]],
  ] as const) {
    it(`${file} - known keys only, no secret in the file`, () => {
      const raw = stackRaw(file);
      for (const key of Object.keys(raw)) {
        const spec = (CONFIG_KEYS as Record<string, ConfigKeySpec>)[key];
        assert.ok(spec, `unknown key ${key} in ${file}`);
        assert.equal(spec.secret, false, `secret ${key} written in ${file}`);
      }
    });

    it(`${file} - refused, listing exactly the keys still to replace`, () => {
      const result = parseStackConfig({ ...stackRaw(file), ...SECRETS });
      assert.ok(!result.ok);
      assert.deepEqual(keysToReplace(result.issues), [...toReplace].sort(byKeyOrder));
      assert.deepEqual(
        result.issues.filter((i) => i.code !== "placeholder"),
        [],
      );
    });
  }

  it("Pulumi.staging.yaml - with its placeholders replaced, the exact pilot config", () => {
    const result = parseStackConfig({
      ...stackRaw("Pulumi.staging.yaml"),
      ...SECRETS,
      pilotHost: "10.20.30.40",
      pilotHostKey: `10.20.30.40 ${KEY_PAIR.public}`,
      natsSha256: SHA,
    });
    assert.ok(result.ok);
    const {
      mode,
      nodeCount,
      streamReplicas,
      pilotHost,
      pilotHostKey,
      pilotName,
      streamName,
      clusterPassword,
    } = result.config;
    assert.deepEqual(
      { mode, nodeCount, streamReplicas, pilotHost, pilotHostKey, pilotName, streamName, clusterPassword },
      {
        mode: "single",
        nodeCount: 1,
        streamReplicas: 1,
        pilotHost: "10.20.30.40",
        // The known_hosts line's host field is dropped: what is pinned is the key.
        pilotHostKey: KEY_PAIR.public.split(" ").slice(0, 2).join(" "),
        pilotName: "akira-cache-01-staging",
        streamName: "AKIRA_CDR",
        clusterPassword: undefined,
      },
    );
  });

  it("Pulumi.ga.yaml - with its placeholders replaced, the exact cluster config", () => {
    const result = parseStackConfig({
      ...stackRaw("Pulumi.ga.yaml"),
      ...SECRETS,
      pilotHost: "10.20.30.40",
      natsSha256: SHA,
      adminCidrs: '["100.64.10.0/24"]',
      clientCidrs: '["172.20.0.0/16"]',
      sshPublicKey: KEY_PAIR.public,
    });
    assert.ok(result.ok);
    const c = result.config;
    assert.deepEqual(
      [c.mode, c.clusterName, c.nodeCount, c.serverType, c.location, c.image, c.privateNetworkCidr],
      ["cluster", "akira-ga", 3, "cx23", "fsn1", "ubuntu-24.04", "10.0.0.0/16"],
    );
    assert.deepEqual(
      [c.streamName, c.streamReplicas, c.streamSubjects, c.absorbPilot, c.acceptPilotAbsorbRisk],
      ["AKIRA_CDR", 3, ["akira.cdr.>"], false, false],
    );
    assert.equal(c.clusterPassword, PASSWORDS.clusterPassword);
  });
});

describe("docs/configuration.md - every key documented", () => {
  it("names every key of CONFIG_KEYS in its table", () => {
    const doc = readFileSync(join(ROOT, "docs", "configuration.md"), "utf8");
    const missing = SPECS.map(([n]) => n).filter((n) => !doc.includes(`| \`${n}\` |`));
    assert.deepEqual(missing, []);
  });
});

function byKeyOrder(a: string, b: string): number {
  const keys = Object.keys(CONFIG_KEYS);
  return keys.indexOf(a) - keys.indexOf(b);
}

describe("README - every key listed", () => {
  it("holds the key table rendered from CONFIG_KEYS, exactly", () => {
    const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/</g, "\\<");
    const rows = SPECS.map(([name, spec]) => {
      const fallback = spec.default === undefined ? "—" : `\`${JSON.stringify(spec.default)}\``;
      const required = spec.requiredWhen === "never" ? "—" : spec.requiredWhen;
      return `| \`${name}\`${spec.secret ? " (secret)" : ""} | ${fallback} | ${required} | ${cell(spec.description)} |`;
    });
    const table = ["| key | default | required | meaning |", "|---|---|---|---|", ...rows].join("\n");
    assert.ok(readFileSync(join(ROOT, "README.md"), "utf8").includes(`${table}\n`), table);
  });
});
