import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  HETZNER_LOCATIONS,
  maxFileStoreBytes,
  monthlyCostEur,
  PRICES_CHECKED,
  SERVER_TYPES,
} from "../../components/config/serverTypes";

describe("serverTypes - price table", () => {
  it("the GA shape: three cx23 at the June 2026 list price", () => {
    assert.equal(monthlyCostEur("cx23", 3), 16.47);
    assert.equal(monthlyCostEur("cx23", 1), 5.49);
    assert.equal(monthlyCostEur("cx33", 5), 42.45);
  });

  it("the table is dated and every entry complete", () => {
    assert.match(PRICES_CHECKED, /^\d{4}-\d{2}-\d{2}$/);
    for (const [name, t] of Object.entries(SERVER_TYPES)) {
      assert.match(name, /^(cx|cpx|cax|ccx)\d{2}$/);
      assert.ok(t.diskGb >= 40 && t.eurPerMonth > 0 && t.vcpus > 0 && t.memoryGb > 0, name);
      assert.equal(t.arch, name.startsWith("cax") ? "arm" : "x86", name);
      assert.ok(
        t.locations.length > 0 &&
          t.locations.every((l) => (HETZNER_LOCATIONS as readonly string[]).includes(l)),
      );
    }
  });

  it("cost-optimised types are sold in the EU locations only", () => {
    for (const name of ["cx23", "cx53", "cax11"])
      assert.deepEqual(SERVER_TYPES[name]?.locations, ["fsn1", "nbg1", "hel1"]);
    assert.deepEqual(SERVER_TYPES.ccx13?.locations, ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"]);
  });

  it("an unknown type is refused with the known ones", () => {
    assert.throws(() => monthlyCostEur("cx22", 3), {
      message:
        'unknown Hetzner server type "cx22"; known: cx23, cx33, cx43, cx53, cpx22, cpx32, cpx42, cpx52, cpx62, cax11, cax21, cax31, cax41, ccx13, ccx23, ccx33, ccx43, ccx53, ccx63',
    });
  });
});

describe("serverTypes - max_file_store leaves room for the OS and transient writes", () => {
  it("(disk × 0.95 − 8 GB) × 0.8, whole GB", () => {
    assert.equal(maxFileStoreBytes("cx23"), 24_000_000_000);
    assert.equal(maxFileStoreBytes("cx33"), 54_000_000_000);
    assert.equal(maxFileStoreBytes("cx43"), 115_000_000_000);
    assert.equal(maxFileStoreBytes("ccx63"), 723_000_000_000);
  });

  it("always well under the disk", () => {
    for (const [name, t] of Object.entries(SERVER_TYPES)) {
      const bytes = maxFileStoreBytes(name);
      assert.ok(bytes > 0 && bytes <= t.diskGb * 1e9 * 0.76 - 6.4e9, name);
      assert.equal(bytes % 1e9, 0);
    }
  });
});
