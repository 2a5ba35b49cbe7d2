import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canarySubject } from "../../components/jetstream/canary";
import { judge } from "../../components/jetstream/replicas";
import {
  type ApiStreamConfig,
  applyDeclared,
  declaredFromConfig,
  diffDeclared,
  type StreamSnapshot,
} from "../../components/jetstream/streams";

const live: ApiStreamConfig = {
  name: "AKIRA_CDR",
  subjects: ["akira.cdr.>"],
  num_replicas: 3,
  storage: "file",
  retention: "limits",
  max_age: 0,
  max_bytes: -1,
  max_msgs: -1,
  duplicate_window: 120_000_000_000,
  discard: "old",
  placement: { cluster: "akira-ga" },
};

describe("stream settings - declared vs live", () => {
  it("declaredFromConfig converts nanoseconds to seconds", () => {
    assert.deepEqual(declaredFromConfig({ ...live, max_age: 86_400_000_000_000 }), {
      subjects: ["akira.cdr.>"],
      replicas: 3,
      storage: "file",
      retention: "limits",
      maxAgeSeconds: 86_400,
      maxBytes: -1,
      maxMsgs: -1,
      duplicateWindowSeconds: 120,
      discard: "old",
    });
  });

  it("diffDeclared reports declared fields only", () => {
    const table: [Parameters<typeof diffDeclared>[0], string[]][] = [
      [{}, []],
      [{ replicas: 3, maxMsgs: -1 }, []],
      [{ replicas: 1 }, ["replicas"]],
      [{ maxMsgs: 1000, subjects: ["akira.cdr.>"] }, ["maxMsgs"]],
      [
        { subjects: ["akira.cdr.>", "akira.x"], duplicateWindowSeconds: 60 },
        ["subjects", "duplicateWindowSeconds"],
      ],
    ];
    for (const [declared, fields] of table) {
      assert.deepEqual(
        diffDeclared(declared, declaredFromConfig(live)).map((c) => c.field),
        fields,
        JSON.stringify(declared),
      );
    }
  });

  it("applyDeclared keeps undeclared fields, placement included (no move with a scale, 10123)", () => {
    const next = applyDeclared(live, { replicas: 1, maxAgeSeconds: 60 });
    assert.equal(next.num_replicas, 1);
    assert.equal(next.max_age, 60_000_000_000);
    assert.deepEqual(next.placement, { cluster: "akira-ga" });
    assert.equal(next.max_msgs, -1);
  });
});

describe("canary - subject inside the stream", () => {
  it("replaces wildcards with the canary token", () => {
    assert.equal(canarySubject(["akira.cdr.>"]), "akira.cdr._akira_canary");
    assert.equal(canarySubject(["a.*.b", "c"]), "a._akira_canary.b");
    assert.equal(canarySubject(["akira.cdr"]), "akira.cdr");
    assert.throws(() => canarySubject([]), {
      message: "the stream has no subjects: a canary publish needs one",
    });
  });
});

describe("replicas - judging currency", () => {
  const snap = (cluster: StreamSnapshot["cluster"], replicas = 3): StreamSnapshot => ({
    config: { ...live, num_replicas: replicas },
    state: { messages: 10, bytes: 100, firstSeq: 1, lastSeq: 10, consumers: 0 },
    cluster,
  });
  const r = (name: string, current: boolean, lag = 0, offline = false) => ({
    name,
    current,
    lag,
    offline,
    activeNanos: 1000,
  });

  it("says why a stream is not current yet", () => {
    const table: [StreamSnapshot, number, string | undefined, { ok: boolean; status: string }][] = [
      [
        snap({ leader: "nats-1", replicas: [] }, 1),
        3,
        undefined,
        { ok: false, status: "config still says R1" },
      ],
      [snap({ replicas: [] }), 3, undefined, { ok: false, status: "no leader" }],
      [
        snap({ leader: "nats-1", replicas: [r("nats-2", true), r("nats-3", false, 42)] }),
        3,
        undefined,
        { ok: false, status: "leader nats-1; nats-2 current, nats-3 lag 42" },
      ],
      [
        snap({ leader: "nats-1", replicas: [r("nats-2", true), r("nats-3", true, 0, true)] }),
        3,
        undefined,
        { ok: false, status: "leader nats-1; nats-2 current, nats-3 offline" },
      ],
      [
        snap({ leader: "nats-1", replicas: [r("nats-2", true), r("nats-3", true)] }),
        3,
        undefined,
        { ok: true, status: "leader nats-1; nats-2 current, nats-3 current" },
      ],
      [
        snap({ leader: "nats-1", replicas: [] }, 1),
        1,
        "nats-2",
        { ok: false, status: "leader is nats-1, want nats-2" },
      ],
      [snap(undefined, 1), 1, undefined, { ok: true, status: "standalone" }],
    ];
    for (const [s, replicas, leader, want] of table) assert.deepEqual(judge(s, replicas, leader), want);
  });
});
