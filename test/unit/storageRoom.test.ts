import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertRoomFor } from "../../components/jetstream/storageRoom";

const MIB = 1024 ** 2;

describe("assertRoomFor", () => {
  it("the account's limit counts every copy", () => {
    const room = { accountLimitBytes: 100 * MIB, accountUsedBytes: 40 * MIB };
    assert.doesNotThrow(() => assertRoomFor(room, "restoring S", 20 * MIB, 3));
    assert.throws(() => assertRoomFor(room, "restoring S", 21 * MIB, 3), {
      code: "insufficient-storage",
      message:
        "restoring S needs 63.0 MiB (21.0 MiB × R3) but the account's JetStream storage limit leaves 60.0 MiB of 100.0 MiB; nothing was sent. Raise the account's max_file_store or free space, then restore again",
    });
  });

  it("R3 needs three servers with room for one copy each; an unlimited account is no limit", () => {
    const servers = [
      { name: "n1", limitBytes: 100 * MIB, usedBytes: 10 * MIB },
      { name: "n2", limitBytes: 100 * MIB, usedBytes: 10 * MIB },
      { name: "n3", limitBytes: 100 * MIB, usedBytes: 60 * MIB },
    ];
    const room = { accountUsedBytes: 0, servers };
    assert.doesNotThrow(() => assertRoomFor(room, "restoring S", 40 * MIB, 3));
    assert.doesNotThrow(() => assertRoomFor(room, "restoring S", 50 * MIB, 2));
    assert.throws(() => assertRoomFor(room, "restoring S", 50 * MIB, 3), {
      code: "insufficient-storage",
      message:
        "restoring S needs 50.0 MiB on each of 3 server(s), but only 2 have that much JetStream storage left (n1 90.0 MiB free of 100.0 MiB, n2 90.0 MiB free of 100.0 MiB, n3 40.0 MiB free of 100.0 MiB); nothing was sent. On GA the limit follows serverType (a larger type), on the pilot pilotMaxFileStoreGb; or free space, then restore again",
    });
  });
});
