/**
 * The rehearsal's SVG timeline: publish and ack rate (top panel) and ack latency p50/p99 (bottom
 * panel) per second, with every step drawn as a band across both panels and labelled above. Plain
 * SVG 1.1 with no script or external font, so any browser or `rsvg-convert` renders it.
 */
import type { TrafficSample } from "../traffic/cdrTraffic";

export interface TimelineStep {
  readonly name: string;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly ok: boolean;
}

export interface TimelineInput {
  readonly title: string;
  readonly samples: readonly TrafficSample[];
  readonly steps: readonly TimelineStep[];
  readonly startMs: number;
  readonly endMs: number;
}

const W = 1400;
const LEFT = 70;
const RIGHT = 20;
const PANEL_H = 170;
const GAP = 50;
const LANE_H = 15;
/** Approximate width of one character at the 11 px label size (DejaVu Sans). */
const CHAR_W = 6.4;

interface PlacedLabel {
  readonly text: string;
  readonly x: number;
  readonly stepX: number;
  readonly lane: number;
  readonly ok: boolean;
}

/** Greedy lanes: each label goes to the first row where it does not overlap the previous one. */
function placeLabels(steps: readonly TimelineStep[], x: (t: number) => number, maxX: number): PlacedLabel[] {
  const laneEnds: number[] = [];
  return steps.map((s) => {
    const text = `${s.name} ${(s.durationMs / 1000).toFixed(1)} s${s.ok ? "" : " FAILED"}`;
    const width = text.length * CHAR_W;
    const stepX = x(s.startedAt);
    const lx = Math.min(stepX, maxX - width);
    let lane = laneEnds.findIndex((end) => end + 8 <= lx);
    if (lane === -1) {
      lane = laneEnds.length;
      laneEnds.push(0);
    }
    laneEnds[lane] = lx + width;
    return { text, x: lx, stepX, lane, ok: s.ok };
  });
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function polyline(points: readonly [number, number][], color: string, width = 1.5): string {
  if (points.length === 0) return "";
  const d = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  return `<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${d}"/>`;
}

export function renderTimelineSvg(input: TimelineInput): string {
  const span = Math.max(1000, input.endMs - input.startMs);
  const plotW = W - LEFT - RIGHT;
  const x = (t: number) => LEFT + ((t - input.startMs) / span) * plotW;
  const labels = placeLabels(input.steps, x, W - 4);
  const lanes = Math.max(1, ...labels.map((l) => l.lane + 1));
  const TOP = 48 + lanes * LANE_H + 10;
  const H = TOP + 2 * PANEL_H + GAP + 60;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="24" font-size="16" font-weight="bold">${esc(input.title)}</text>`,
  );
  const panels = [
    { y: TOP, label: "messages/s", series: ["published", "acked"] as const },
    { y: TOP + PANEL_H + GAP, label: "ack latency ms", series: ["p50Ms", "p99Ms"] as const },
  ];
  const colors: Record<string, string> = {
    published: "#1f77b4",
    acked: "#2ca02c",
    p50Ms: "#9467bd",
    p99Ms: "#d62728",
  };
  // Step bands first, so the series draw over them.
  for (const [i, s] of input.steps.entries()) {
    const x0 = x(s.startedAt);
    const x1 = Math.max(x0 + 1.5, x(s.startedAt + s.durationMs));
    const fill = s.ok ? (i % 2 === 0 ? "#fdf1d8" : "#e3eefb") : "#f8c9c9";
    out.push(
      `<rect x="${x0.toFixed(1)}" y="${TOP}" width="${(x1 - x0).toFixed(1)}" height="${2 * PANEL_H + GAP}" fill="${fill}" opacity="0.9"/>`,
      `<line x1="${x0.toFixed(1)}" y1="${TOP}" x2="${x0.toFixed(1)}" y2="${TOP + 2 * PANEL_H + GAP}" stroke="#888" stroke-width="0.6"/>`,
    );
  }
  for (const l of labels) {
    const ly = 48 + l.lane * LANE_H;
    out.push(
      `<line x1="${l.stepX.toFixed(1)}" y1="${ly + 3}" x2="${l.stepX.toFixed(1)}" y2="${TOP}" stroke="#bbb" stroke-width="0.6"/>`,
      `<text x="${l.x.toFixed(1)}" y="${ly}" font-size="11" fill="${l.ok ? "#333" : "#c00"}">${esc(l.text)}</text>`,
    );
  }
  for (const p of panels) {
    const max = niceMax(Math.max(1, ...input.samples.flatMap((s) => p.series.map((k) => s[k]))));
    const y = (v: number) => p.y + PANEL_H - (v / max) * PANEL_H;
    out.push(`<rect x="${LEFT}" y="${p.y}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#444"/>`);
    for (const f of [0, 0.5, 1]) {
      const v = max * f;
      out.push(
        `<line x1="${LEFT - 4}" y1="${y(v).toFixed(1)}" x2="${LEFT}" y2="${y(v).toFixed(1)}" stroke="#444"/>`,
        `<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Number(v.toFixed(1))}</text>`,
      );
    }
    out.push(
      `<text x="16" y="${p.y + PANEL_H / 2}" transform="rotate(-90 16 ${p.y + PANEL_H / 2})" text-anchor="middle">${esc(p.label)}</text>`,
    );
    for (const [k, key] of p.series.entries()) {
      const pts = input.samples.map((s) => [x(s.t + 500), y(s[key])] as [number, number]);
      out.push(polyline(pts, colors[key] as string));
      const lx = LEFT + plotW - 220 + k * 110;
      out.push(
        `<rect x="${lx}" y="${p.y + 8}" width="12" height="4" fill="${colors[key]}"/>`,
        `<text x="${lx + 16}" y="${p.y + 14}">${key === "p50Ms" ? "p50" : key === "p99Ms" ? "p99" : key}</text>`,
      );
    }
  }
  // Time axis in seconds since the start.
  const axisY = TOP + 2 * PANEL_H + GAP;
  const stepS = niceMax(span / 1000 / 12);
  for (let s = 0; s <= span / 1000; s += stepS) {
    const tx = x(input.startMs + s * 1000);
    out.push(
      `<line x1="${tx.toFixed(1)}" y1="${axisY}" x2="${tx.toFixed(1)}" y2="${axisY + 5}" stroke="#444"/>`,
      `<text x="${tx.toFixed(1)}" y="${axisY + 18}" text-anchor="middle">${Number(s.toFixed(1))} s</text>`,
    );
  }
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}
