import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FailoverProblem } from "../../scripts/ops/failoverTest";
import { problemsAfterRepair } from "../../scripts/runbook/runners";

// Wordings unlike the failover test's own: only the codes decide.
const diverged: FailoverProblem = { code: "copy-diverged", message: "copy of nats-1 differs" };
const missing: FailoverProblem = { code: "acked-missing", message: "CDRs lost: 4" };
const unreadable: FailoverProblem = { code: "read-failed", message: "stream unreadable" };
const stalled: FailoverProblem = { code: "publish-stalled", message: "no acks for 20 s" };

describe("problemsAfterRepair - the runbook's failover step branches on problem codes", () => {
  it("the rebuild answers copy-diverged; without a second read the read problems stay", () => {
    assert.deepEqual(problemsAfterRepair([diverged, missing, stalled]), [missing, stalled]);
  });

  it("a clean second read replaces acked-missing and read-failed", () => {
    assert.deepEqual(
      problemsAfterRepair([diverged, unreadable, missing, stalled], {
        stream: "AKIRA_CDR",
        lost: 0,
        lostSample: [],
      }),
      [stalled],
    );
  });

  it("a second read that still misses CDRs reports them, with a sample", () => {
    assert.deepEqual(
      problemsAfterRepair([missing], { stream: "AKIRA_CDR", lost: 2, lostSample: ["cdr-1", "cdr-2"] }),
      [
        {
          code: "acked-missing",
          message: "2 acknowledged CDRs are missing from AKIRA_CDR (e.g. cdr-1, cdr-2)",
        },
      ],
    );
  });
});
