import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDurationMs } from "../../scripts/cli/duration";
import { formatBytes, formatDuration, renderTable } from "../../scripts/cli/output";
import { createProgress, renderBar } from "../../scripts/cli/progress";
import { UsageError } from "../../scripts/cli/usageError";

describe("cli output - tables, units, durations, progress", () => {
  it("renderTable - padded columns, numbers right-aligned, footer under a rule", () => {
    const text = renderTable(
      ["Name", "Conns"],
      [
        ["nats-1", 3],
        ["nats-22", 12],
      ],
      { title: "Servers", footer: ["", 15] },
    );
    assert.equal(
      text,
      [
        "Servers",
        "",
        "Name     Conns",
        "-------  -----",
        "nats-1       3",
        "nats-22     12",
        "-------  -----",
        "            15",
        "",
      ].join("\n"),
    );
  });

  it("formatBytes and formatDuration", () => {
    assert.deepEqual([0, 1023, 1536, 100 * 1024 ** 2, 1.5 * 1024 ** 3].map(formatBytes), [
      "0 B",
      "1023 B",
      "1.5 KiB",
      "100.0 MiB",
      "1.5 GiB",
    ]);
    assert.deepEqual([4200, 61_000, 3_723_000, 93_784_000].map(formatDuration), [
      "4.2s",
      "1m1s",
      "1h2m3s",
      "1d2h3m4s",
    ]);
  });

  it("parseDurationMs - Go-style durations; anything else names the flag", () => {
    assert.deepEqual(
      ["500ms", "30s", "5m", "24h", "1h30m", "1.5s"].map((v) => parseDurationMs(v, "--x")),
      [500, 30_000, 300_000, 86_400_000, 5_400_000, 1500],
    );
    for (const bad of ["", "10", "5x", "s", "1h 30m"]) {
      assert.throws(() => parseDurationMs(bad, "--seen-critical"), {
        constructor: UsageError,
        message: `--seen-critical must be a duration such as 500ms, 30s, 5m or 1h30m, got "${bad}"`,
      });
    }
  });

  it("renderBar - percentage, bytes, rate and ETA", () => {
    assert.equal(
      renderBar("backup", 25 * 1024 ** 2, 100 * 1024 ** 2, 1000, 20),
      "backup [#####---------------]  25%  25.0 MiB/100.0 MiB  25.0 MiB/s  ETA 3.0s",
    );
  });

  it("createProgress - silent when the stream is not a terminal", () => {
    let written = "";
    const stream = {
      isTTY: false,
      write: (s: string) => {
        written += s;
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    const bar = createProgress({ label: "backup", total: 10, stream });
    bar.update(5);
    bar.finish();
    assert.equal(written, "");
  });
});
