/** The advisory gate on natsVersion, the pilot version rule and the preview warnings, exactly. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig, type StackConfig } from "../../components/config/config";
import { configWarnings, minorsBehindNewest } from "../../components/config/configWarnings";
import {
  ADVISORIES,
  ADVISORY_SOURCES,
  advisoriesAffecting,
  advisoryName,
  CHECKED,
  NEWEST_KNOWN_RELEASE,
  versionToMoveTo,
  vulnerablePinReason,
} from "../../components/config/natsAdvisories";
import { compareVersions, PINNED_NATS_VERSION, SUPPORT_POLICY } from "../../components/jetstream/serverLines";
import { gaRaw, type Raw, stagingRaw } from "./configFixtures";

const ids = (version: string) => advisoriesAffecting(version).map((a) => a.id);

describe("advisories - which versions each affects", () => {
  const cases: [string, string[]][] = [
    ["2.10.22", ADVISORIES.map((a) => a.id)],
    ["2.10.26", ADVISORIES.map((a) => a.id)],
    ["2.10.27", ADVISORIES.map((a) => a.id).filter((id) => id !== "CVE-2025-30215")],
    ["2.11.0", ADVISORIES.map((a) => a.id)],
    ["2.11.1", ADVISORIES.map((a) => a.id).filter((id) => id !== "CVE-2025-30215")],
    ["2.11.16", ["GHSA-7qmq-8cc4-hxwg"]],
    ["2.12.6", ["GHSA-38x3-76xf-cq45", "GHSA-jx8g-9g95-6322", "GHSA-7qmq-8cc4-hxwg"]],
    ["2.12.12", []],
    ["2.14.2", ["GHSA-7qmq-8cc4-hxwg"]],
    ["2.14.3", []],
    [PINNED_NATS_VERSION, []],
  ];
  for (const [version, expected] of cases) {
    it(`${version} - ${expected.length} advisories`, () => assert.deepEqual(ids(version), expected));
  }
  it("the pinned release is the newest the table knows and none affects it", () => {
    assert.equal(NEWEST_KNOWN_RELEASE, PINNED_NATS_VERSION);
    assert.equal(vulnerablePinReason(PINNED_NATS_VERSION), undefined);
  });
});

describe("advisories - the table itself", () => {
  it("one CHECKED date and the sources it was checked against", () => {
    assert.equal(CHECKED, "2026-12-03");
    assert.match(ADVISORY_SOURCES, /advisories\.nats\.io/);
  });
  for (const a of ADVISORIES) {
    it(`${a.id}: a CVE or GHSA id, a date not after CHECKED, ranges introduced < fixed`, () => {
      assert.match(a.id, /^(CVE-\d{4}-\d+|GHSA(-[a-z0-9]{4}){3})$/);
      assert.match(a.published, /^\d{4}-\d{2}(-\d{2})?$/);
      assert.ok(a.published <= CHECKED);
      assert.ok(a.impact.length > 0 && !a.impact.includes("\n"));
      for (const r of a.affected) {
        if (r.fixed !== undefined)
          assert.ok(compareVersions(r.introduced, r.fixed) < 0, `${a.id} ${r.fixed}`);
      }
    });
  }
  it("a name carries the aliases, so either id finds it", () => {
    const name = (id: string) => advisoryName(ADVISORIES.find((a) => a.id === id) as (typeof ADVISORIES)[0]);
    assert.equal(name("CVE-2025-30215"), "CVE-2025-30215");
    assert.equal(name("CVE-2026-33222"), "CVE-2026-33222 / GHSA-9983-vrx2-fg9c");
    assert.equal(name("GHSA-38x3-76xf-cq45"), "GHSA-38x3-76xf-cq45 / NATS-2026-16");
  });
});

describe("advisories - the version to move to", () => {
  const cases: [string, string][] = [
    ["2.14.2", "2.14.3"],
    ["2.12.6", "2.12.12"],
    ["2.10.22", PINNED_NATS_VERSION],
    ["2.10.27", PINNED_NATS_VERSION],
    ["2.11.0", PINNED_NATS_VERSION],
    ["2.11.16", PINNED_NATS_VERSION],
    ["2.9.10", PINNED_NATS_VERSION],
  ];
  for (const [version, to] of cases)
    it(`${version} → ${to}`, () => assert.equal(versionToMoveTo(version), to));
});

const ALL_2_10_22 = [
  "CVE-2025-30215 (JetStream management API authorization bypass; fixed in 2.10.27/2.11.1)",
  "CVE-2026-27889 (a malformed WebSocket frame panics the server before authentication (denial of service); fixed in 2.11.14/2.12.5)",
  "CVE-2026-33222 / GHSA-9983-vrx2-fg9c (a user allowed to restore one JetStream stream can restore into other stream names; fixed in 2.11.15/2.12.6)",
  "CVE-2026-33248 / GHSA-3f24-pcvm-5jqc (mTLS verify_and_map identities bypassable for some certificate DN patterns; fixed in 2.11.15/2.12.6)",
  "CVE-2026-33246 (the Nats-Request-Info header can be spoofed through a leafnode connection; fixed in 2.11.15/2.12.6)",
  "GHSA-38x3-76xf-cq45 / NATS-2026-16 (with no_auth_user set, an unauthenticated peer can bypass route or leafnode authentication; fixed in 2.11.16/2.12.7/2.14.0)",
  "GHSA-jx8g-9g95-6322 / NATS-2026-18 (a queue subscription can bypass a plain subject deny permission; fixed in 2.11.16/2.12.7/2.14.0)",
  "GHSA-7qmq-8cc4-hxwg / NATS-2026-26 (MQTT retained and QoS 1+ replayed messages bypass subscribe deny rules; fixed in 2.12.12/2.14.3)",
];

describe("config - natsVersion refused inside a known-vulnerable range", () => {
  const issueOf = (raw: Raw) => {
    const result = parseStackConfig(raw);
    assert.equal(result.ok, false);
    return result.ok ? undefined : result.issues.find((i) => i.key === "natsVersion");
  };
  it("2.10.22 names CVE-2025-30215, its fixes 2.10.27/2.11.1, and that 2.10 has no complete fix", () => {
    const issue = issueOf(gaRaw({ natsVersion: "2.10.22" }));
    assert.equal(issue?.code, "invalid");
    assert.equal(issue?.fix, `pulumi config set akira-nats:natsVersion ${PINNED_NATS_VERSION}`);
    assert.equal(
      issue?.rule,
      `is 2.10.22, inside the affected range of ${ALL_2_10_22.join(", ")}: the 2.10 line has no release fixing all of them (2.10.27 is itself affected): move to 2.15.1 (advisories checked 2026-12-03)`,
    );
  });
  const rows: [string, string][] = [
    [
      "2.10.27",
      `is 2.10.27, inside the affected range of ${ALL_2_10_22.slice(1).join(", ")}: the 2.10 line has no release fixing all of them: move to 2.15.1 (advisories checked 2026-12-03)`,
    ],
    [
      "2.11.16",
      "is 2.11.16, inside the affected range of GHSA-7qmq-8cc4-hxwg / NATS-2026-26 (MQTT retained and QoS 1+ replayed messages bypass subscribe deny rules; fixed in 2.12.12/2.14.3): the 2.11 line has no release fixing all of them: move to 2.15.1 (advisories checked 2026-12-03)",
    ],
    [
      "2.12.6",
      "is 2.12.6, inside the affected range of GHSA-38x3-76xf-cq45 / NATS-2026-16 (with no_auth_user set, an unauthenticated peer can bypass route or leafnode authentication; fixed in 2.11.16/2.12.7/2.14.0), GHSA-jx8g-9g95-6322 / NATS-2026-18 (a queue subscription can bypass a plain subject deny permission; fixed in 2.11.16/2.12.7/2.14.0), GHSA-7qmq-8cc4-hxwg / NATS-2026-26 (MQTT retained and QoS 1+ replayed messages bypass subscribe deny rules; fixed in 2.12.12/2.14.3): move to 2.12.12 (advisories checked 2026-12-03)",
    ],
    [
      "2.14.2",
      "is 2.14.2, inside the affected range of GHSA-7qmq-8cc4-hxwg / NATS-2026-26 (MQTT retained and QoS 1+ replayed messages bypass subscribe deny rules; fixed in 2.12.12/2.14.3): move to 2.14.3 (advisories checked 2026-12-03)",
    ],
  ];
  for (const [version, rule] of rows) {
    it(`${version} - exact message, on either stack`, () => {
      assert.equal(issueOf(gaRaw({ natsVersion: version }))?.rule, rule);
      assert.equal(issueOf(stagingRaw({ natsVersion: version }))?.rule, rule);
    });
  }
  it("reported with every other problem at once, in one ConfigError", () => {
    const result = parseStackConfig(gaRaw({ natsVersion: "2.14.2", nodeCount: "4" }));
    assert.deepEqual(result.ok ? [] : result.issues.map((i) => i.key), ["natsVersion", "nodeCount"]);
  });
});

describe("config - the staging pin against what the pilot runs", () => {
  const rule = (raw: Raw) => {
    const r = parseStackConfig(raw);
    return r.ok ? undefined : r.issues.find((i) => i.key === "natsVersion");
  };
  it("2.9.10 → pinned skips minor lines: refused, with the fix", () => {
    const issue = rule(stagingRaw({ pilotRunningVersion: "2.9.10" }));
    assert.equal(
      issue?.rule,
      "would change the pilot's nats-server from 2.9.10 (pilotRunningVersion) to 2.15.1 on the first `pulumi up`: 2.9.10 → 2.15.1 skips 5 minor line(s): upgrade one minor line at a time, or back up the streams and restore them on the new line. Back up the pilot's stream first (akira-nats stream backup), then accept the change with acceptPilotVersionChange (pinning 2.9.10 instead is not possible: known advisories affect it, and natsVersion refuses it)",
    );
    assert.equal(issue?.fix, "pulumi config set akira-nats:acceptPilotVersionChange true");
  });
  it("a downgrade beyond one patch: refused, and pinning what the pilot runs is offered", () => {
    const issue = rule(stagingRaw({ pilotRunningVersion: "2.15.3" }));
    assert.equal(
      issue?.rule,
      `would change the pilot's nats-server from 2.15.3 (pilotRunningVersion) to 2.15.1 on the first \`pulumi up\`: 2.15.3 → 2.15.1 is a downgrade beyond one patch release: ${SUPPORT_POLICY}. Back up the pilot's stream first (akira-nats stream backup), then accept the change with acceptPilotVersionChange, or pin 2.15.3: pulumi config set akira-nats:natsVersion 2.15.3`,
    );
    assert.equal(issue?.fix, "pulumi config set akira-nats:acceptPilotVersionChange true");
  });
  it("a pilot version that is not x.y.z: refused with its own rule", () => {
    const r = parseStackConfig(stagingRaw({ pilotRunningVersion: "v2.9.10" }));
    assert.deepEqual(r.ok ? [] : r.issues, [
      {
        key: "pilotRunningVersion",
        rule: 'must be a nats-server version x.y.z without a leading "v", not "v2.9.10"',
        fix: "pulumi config set akira-nats:pilotRunningVersion <x.y.z from the pilot's /varz or `nats-server --version`>",
        code: "invalid",
      },
    ]);
  });
  it("ga: the pilot's version is not compared (the pin goes on new servers)", () => {
    assert.equal(parseStackConfig(gaRaw({ pilotRunningVersion: "2.9.10" })).ok, true);
  });
  it("accepted: no error, and the warning says what the first up changes", () => {
    const r = parseStackConfig(
      stagingRaw({ pilotRunningVersion: "2.9.10", acceptPilotVersionChange: "true" }),
    );
    assert.equal(r.ok, true);
    assert.deepEqual(configWarnings((r as { config: StackConfig }).config), [
      `the first \`pulumi up\` on staging changes the pilot's nats-server from 2.9.10 to ${PINNED_NATS_VERSION}: back up its stream first (akira-nats stream backup)`,
    ]);
  });
  it("one minor up or one patch down is within the policy", () => {
    assert.equal(parseStackConfig(stagingRaw({ pilotRunningVersion: "2.14.3" })).ok, true);
    assert.equal(parseStackConfig(stagingRaw({ pilotRunningVersion: "2.15.2" })).ok, true);
  });
  it("the same version: silent", () => {
    const r = parseStackConfig(stagingRaw({ pilotRunningVersion: PINNED_NATS_VERSION }));
    assert.deepEqual(configWarnings((r as { config: StackConfig }).config), []);
  });
  it("unset on staging: a warning to set it; ga does not care", () => {
    const staging = parseStackConfig(stagingRaw()) as { config: StackConfig };
    assert.deepEqual(configWarnings(staging.config), [
      "akira-nats:pilotRunningVersion is not set: preview cannot say whether the first `pulumi up` on staging changes the pilot's nats-server. Set it to what the pilot runs (the cutover's preflight prints it): pulumi config set akira-nats:pilotRunningVersion <x.y.z>",
    ]);
    const ga = parseStackConfig(gaRaw({ pilotRunningVersion: "2.9.10" })) as { config: StackConfig };
    assert.deepEqual(configWarnings(ga.config), []);
  });
});

describe("config - a pin far behind the newest release", () => {
  it("counts minor lines behind", () => {
    assert.equal(minorsBehindNewest(NEWEST_KNOWN_RELEASE), 0);
    assert.equal(minorsBehindNewest("2.14.3"), 1);
    assert.equal(minorsBehindNewest("2.12.12"), 3);
  });
  it("more than one minor behind: a warning quoting the support policy", () => {
    const r = parseStackConfig(gaRaw({ natsVersion: "2.12.12" })) as { config: StackConfig };
    assert.deepEqual(configWarnings(r.config), [
      `akira-nats:natsVersion 2.12.12 is 3 minor lines behind ${NEWEST_KNOWN_RELEASE}, the newest release known on ${CHECKED}: ${SUPPORT_POLICY}. Plan the move (docs/rolling-upgrades.md)`,
    ]);
  });
  it("one minor behind: no warning", () => {
    const r = parseStackConfig(gaRaw({ natsVersion: "2.14.3" })) as { config: StackConfig };
    assert.deepEqual(configWarnings(r.config), []);
  });
});
