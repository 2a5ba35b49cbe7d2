import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IdTally } from "../../scripts/traffic/idTally";
import { percentile, TrafficTimeline } from "../../scripts/traffic/trafficTimeline";

describe("traffic timeline - gaps and samples", () => {
  it("counts the longest ack gap while active, not while paused", () => {
    const tl = new TrafficTimeline();
    tl.activate(0);
    tl.published(0);
    tl.acked(5, 100);
    tl.acked(5, 2600); // a 2.5 s failover gap
    tl.deactivate(2700); // paused
    tl.activate(60_000); // resumed a minute later: the pause is no gap
    tl.acked(5, 60_050);
    assert.equal(tl.maxPublishGapMs(60_050), 2500);
    assert.deepEqual(tl.gapList(), [{ fromMs: 100, toMs: 2600 }]);
    assert.equal(tl.maxGapBetween(1000, 2000, 60_050), 1000);
    assert.equal(tl.maxGapBetween(3000, 50_000, 60_050), 0);
  });

  it("one sample per second, empty seconds included, frozen at stop", () => {
    const tl = new TrafficTimeline();
    tl.published(1000);
    tl.acked(10, 1010);
    tl.acked(30, 1020);
    tl.failed(3500);
    tl.freeze(3600);
    assert.deepEqual(tl.samples(99_000), [
      { t: 1000, published: 1, acked: 2, failed: 0, p50Ms: 10, p99Ms: 30 },
      { t: 2000, published: 0, acked: 0, failed: 0, p50Ms: 0, p99Ms: 0 },
      { t: 3000, published: 0, acked: 0, failed: 1, p50Ms: 0, p99Ms: 0 },
    ]);
  });

  it("nearest-rank percentiles", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.deepEqual([percentile(xs, 0.5), percentile(xs, 0.99), percentile([], 0.5)], [50, 99, 0]);
  });
});

describe("id tally - counts ids in bitmaps", () => {
  it("distinct, duplicates, and ids outside the <prefix>-<n> shape", () => {
    const t = new IdTally();
    for (const id of ["run-1", "run-2", "run-2", "run-5000000", "other", "other", "x-y"]) t.add(id);
    assert.deepEqual([t.distinct, t.duplicates], [5, 2]);
    assert.deepEqual(
      ["run-2", "run-3", "run-5000000", "other", "x-y"].map((id) => t.countOf(id)),
      [2, 0, 1, 2, 1],
    );
  });
});
