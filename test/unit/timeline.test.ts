import assert from "node:assert/strict";
import { test } from "node:test";
import { renderTimelineSvg } from "../../scripts/rehearsal/timeline";

const t0 = Date.UTC(2026, 0, 1);
const sample = (s: number, published: number, p99Ms: number) => ({
  t: t0 + s * 1000,
  published,
  acked: published,
  failed: 0,
  p50Ms: p99Ms / 2,
  p99Ms,
});

test("timeline - steps as bands with labels in lanes, failures in red, text escaped", () => {
  const svg = renderTimelineSvg({
    title: "pause < 5 s & no loss",
    samples: [sample(0, 100, 4), sample(1, 100, 6), sample(2, 0, 0), sample(3, 100, 900)],
    steps: [
      { name: "cutover:backup-pilot", startedAt: t0 + 500, durationMs: 100, ok: true },
      { name: "cutover:pause-publishers", startedAt: t0 + 600, durationMs: 50, ok: true },
      { name: "cutover:failover-test", startedAt: t0 + 2000, durationMs: 1500, ok: false },
    ],
    startMs: t0,
    endMs: t0 + 4000,
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="1400" height="\d+" /);
  assert.ok(svg.endsWith("</svg>\n"));
  assert.ok(svg.includes(">pause &lt; 5 s &amp; no loss</text>"));
  // Two labels starting 0.1 s apart cannot share a row: the second goes one lane down.
  assert.ok(svg.includes('y="48" font-size="11" fill="#333">cutover:backup-pilot 0.1 s</text>'));
  assert.ok(svg.includes('y="63" font-size="11" fill="#333">cutover:pause-publishers 0.1 s</text>'));
  assert.ok(svg.includes('fill="#c00">cutover:failover-test 1.5 s FAILED</text>'));
  assert.equal((svg.match(/fill="#f8c9c9"/g) ?? []).length, 1, "one red band");
  assert.equal((svg.match(/<polyline /g) ?? []).length, 4, "published, acked, p50, p99");
  assert.ok(svg.includes(">4 s</text>"), "time axis in seconds");
});
