/** The advisory gate on natsVersion, the pilot version rule and the preview warnings, exactly. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig, type StackConfig } from "../../components/config";
import { configWarnings, minorsBehindNewest } from "../../components/configWarnings";
import { PINNED_NATS_VERSION, SUPPORT_POLICY } from "../../components/jetstream/serverLines";
import {
  ADVISORIES,
  advisoriesAffecting,
  CHECKED,
  NEWEST_KNOWN_RELEASE,
  versionToMoveTo,
  vulnerablePinReason,
} from "../../components/natsAdvisories";
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

describe("advisories - the version to move to", () => {
  it("the fixed release of the same line when it fixes everything", () =>
    assert.equal(versionToMoveTo("2.14.2"), "2.14.3"));
  it("the pinned release when the line has no complete fix", () => {
    assert.equal(versionToMoveTo("2.10.22"), PINNED_NATS_VERSION);
    assert.equal(versionToMoveTo("2.11.16"), PINNED_NATS_VERSION);
  });
});

describe("config - natsVersion refused inside a known-vulnerable range", () => {
  it("2.10.22 names CVE-2025-30215, its fixes 2.10.27/2.11.1, and that 2.10 has no complete fix", () => {
    const result = parseStackConfig(gaRaw({ natsVersion: "2.10.22" }));
    assert.equal(result.ok, false);
    const issue = result.ok ? undefined : result.issues.find((i) => i.key === "natsVersion");
    assert.equal(issue?.fix, `pulumi config set akira-nats:natsVersion ${PINNED_NATS_VERSION}`);
    assert.equal(
      issue?.rule,
      `is 2.10.22, inside the affected range of ${ADVISORIES.map(
        (a) => `${a.id} (${a.impact}; fixed in ${a.affected.map((r) => r.fixed).join("/")})`,
      ).join(
        ", ",
      )}: the 2.10 line has no release fixing all of them: move to ${PINNED_NATS_VERSION} (advisories checked ${CHECKED})`,
    );
    assert.match(
      issue?.rule ?? "",
      /CVE-2025-30215 \(JetStream management API authorization bypass; fixed in 2\.10\.27\/2\.11\.1\)/,
    );
  });
  it("2.14.2 - one advisory, move to 2.14.3", () => {
    const result = parseStackConfig(stagingRaw({ natsVersion: "2.14.2" }));
    const issue = result.ok ? undefined : result.issues.find((i) => i.key === "natsVersion");
    assert.equal(
      issue?.rule,
      `is 2.14.2, inside the affected range of GHSA-7qmq-8cc4-hxwg (MQTT retained and QoS 1+ replayed messages bypass subscribe deny rules; fixed in 2.12.12/2.14.3): move to 2.14.3 (advisories checked ${CHECKED})`,
    );
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
      `would change the pilot's nats-server from 2.9.10 (pilotRunningVersion) to ${PINNED_NATS_VERSION} on the first \`pulumi up\`: 2.9.10 → ${PINNED_NATS_VERSION} skips 5 minor line(s): upgrade one minor line at a time, or back up the streams and restore them on the new line. Back up the pilot's stream first (akira-nats stream backup), then accept the change with acceptPilotVersionChange, or pin 2.9.10`,
    );
    assert.equal(issue?.fix, "pulumi config set akira-nats:acceptPilotVersionChange true");
  });
  it("a downgrade beyond one patch: refused", () => {
    const issue = rule(stagingRaw({ pilotRunningVersion: "2.15.3" }));
    assert.match(issue?.rule ?? "", /2\.15\.3 → 2\.15\.1 is a downgrade beyond one patch release: /);
  });
  it("accepted: no error, and the warning says what the first up changes", () => {
    const r = parseStackConfig(
      stagingRaw({ pilotRunningVersion: "2.9.10", acceptPilotVersionChange: "true" }),
    );
    assert.equal(r.ok, true);
    assert.deepEqual(configWarnings((r as { config: StackConfig }).config), [
      `the first \`pulumi up\` on this stack changes the pilot's nats-server from 2.9.10 to ${PINNED_NATS_VERSION}: back up its stream first (akira-nats stream backup)`,
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
      "akira-nats:pilotRunningVersion is not set: preview cannot say whether the first `pulumi up` on this stack changes the pilot's nats-server. Set it to what the pilot runs (the cutover's preflight prints it): pulumi config set akira-nats:pilotRunningVersion <x.y.z>",
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
