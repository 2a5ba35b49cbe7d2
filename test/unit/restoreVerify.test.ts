import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { verifyState } from "../../components/jetstream/restore";

const recorded = { messages: 100, first_seq: 1, last_seq: 100, bytes: 10_000, consumer_count: 0 };
const tail = "";

describe("verifyState - restored stream against backup.json", () => {
  it("exactly as recorded - no extra", () => {
    assert.equal(verifyState("S", recorded, { ...recorded }), 0);
  });

  it("messages published while the snapshot ran - accepted, counted", () => {
    assert.equal(verifyState("S", recorded, { ...recorded, messages: 103, last_seq: 103, bytes: 10_300 }), 3);
  });

  it("fewer messages, another first sequence, or other bytes at the same end - refused", () => {
    assert.throws(
      () => verifyState("S", recorded, { ...recorded, messages: 99, last_seq: 99, bytes: 9_900 }),
      {
        code: "restore-mismatch",
        message: `restored stream S does not match its backup: messages 99 (backup.json: 100), last_seq 99 (backup.json: 100), bytes 9900 (backup.json: 10000)${tail}`,
      },
    );
    assert.throws(
      () => verifyState("S", recorded, { ...recorded, messages: 101, first_seq: 2, last_seq: 102 }),
      {
        message: `restored stream S does not match its backup: first_seq 2 (backup.json: 1)${tail}`,
      },
    );
    assert.throws(() => verifyState("S", recorded, { ...recorded, bytes: 10_001 }), {
      message: `restored stream S does not match its backup: bytes 10001 (backup.json: 10000)${tail}`,
    });
    assert.throws(
      () => verifyState("S", recorded, { ...recorded, messages: 102, last_seq: 102, bytes: 9_000 }),
      {
        message: `restored stream S does not match its backup: bytes 9000 (backup.json: 10000)${tail}`,
      },
    );
  });

  it("a stream with limits: expired or dropped head messages are expected, a short end is not", () => {
    // max_age/max_msgs dropped the first 10 messages between the backup and the check.
    const trimmed = { ...recorded, messages: 90, first_seq: 11, bytes: 9_000 };
    assert.equal(verifyState("S", recorded, trimmed, true), 0);
    assert.throws(() => verifyState("S", recorded, trimmed), {
      message:
        "restored stream S does not match its backup: messages 90 (backup.json: 100), first_seq 11 (backup.json: 1), bytes 9000 (backup.json: 10000)",
    });
    assert.throws(() => verifyState("S", recorded, { ...trimmed, last_seq: 99 }, true), {
      message:
        "restored stream S does not match its backup: messages 90 (backup.json: 100), first_seq 11 (backup.json: 1), last_seq 99 (backup.json: 100), bytes 9000 (backup.json: 10000)",
    });
  });
});
