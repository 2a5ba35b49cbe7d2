import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AlertTracker, DEFAULT_THRESHOLDS } from "../../scripts/ops/monitorAlerts";
import type { NodePoll, ReplicaView, StreamView } from "../../scripts/ops/monitorPoll";
import { buildSample } from "../../scripts/ops/monitorSample";

const replica = (name: string, over: Partial<ReplicaView> = {}): ReplicaView => ({
  name,
  current: true,
  offline: false,
  lag: 0,
  activeMs: 100,
  ...over,
});

function stream(leader: string | undefined, replicas: ReplicaView[], pending = 0): StreamView {
  return {
    account: "AKIRA",
    name: "AKIRA_CDR",
    messages: 10,
    bytes: 100,
    lastSeq: 10,
    clustered: true,
    leader,
    replicas,
    consumers: [
      {
        stream: "AKIRA_CDR",
        name: "billing",
        numPending: pending,
        numAckPending: 0,
        numRedelivered: 0,
        leader,
        replicas: [],
      },
    ],
  };
}

function node(name: string, streams: StreamView[], health = "ok"): NodePoll {
  return {
    url: `http://${name}:8222`,
    name,
    reachable: health === "ok",
    health,
    jetstream: true,
    storageUsed: 0,
    storageReserved: 0,
    storageMax: 1000,
    memoryUsed: 0,
    connections: 1,
    streams,
  };
}

describe("monitor sample - whose view counts", () => {
  it("takes the stream from the node that leads it, not a follower's stale view", () => {
    const s = buildSample(
      [
        node("nats-1", [stream("nats-3", [replica("nats-2"), replica("nats-3")])]),
        node("nats-2", [
          stream("nats-2", [replica("nats-1"), replica("nats-3", { current: false, lag: 42 })]),
        ]),
      ],
      "AKIRA_CDR",
      new Map(),
    );
    assert.equal(s.stream.leader, "nats-2");
    assert.deepEqual(
      s.stream.replicas.map((r) => [r.name, r.current, r.lag]),
      [
        ["nats-1", true, 0],
        ["nats-3", false, 42],
      ],
    );
    assert.deepEqual(s.leaderlessStreams, []);
  });

  it("leaderless when only followers claim a leader and a watched node does not answer", () => {
    const down = { ...node("http://nats-3:8222", [], "unreachable (ECONNREFUSED)"), reachable: false };
    const s = buildSample(
      [node("nats-1", [stream("nats-3", [replica("nats-2"), replica("nats-3")])]), down],
      "AKIRA_CDR",
      new Map(),
    );
    assert.deepEqual(s.leaderlessStreams, ["AKIRA/AKIRA_CDR"]);
    assert.equal(s.stream.leader, undefined);
    assert.equal(s.consumers[0]?.leaderless, true);
  });

  it("only a follower watched, every watched node answering: its leader is taken, nothing is leaderless", () => {
    const s = buildSample(
      [node("nats-1", [stream("nats-3", [replica("nats-2"), replica("nats-3")])])],
      "AKIRA_CDR",
      new Map(),
    );
    assert.deepEqual(s.leaderlessStreams, []);
    assert.equal(s.stream.leader, "nats-3");
    assert.deepEqual([s.consumers[0]?.leaderless, s.consumers[0]?.leader], [false, "nats-3"]);
  });
});

describe("monitor alerts - confirmation, lines, resolution", () => {
  it("raises after confirmPolls polls, once, with the exact line, and resolves", () => {
    const tracker = new AlertTracker({ ...DEFAULT_THRESHOLDS, maxPending: 5, confirmPolls: 2 });
    const history = new Map();
    const poll = (pending: number, health = "ok") =>
      tracker.update(
        buildSample([node("nats-1", [stream("nats-1", [], pending)], health)], "AKIRA_CDR", history),
      );
    assert.deepEqual(poll(9).raised, []);
    assert.deepEqual(
      poll(9).raised.map((a) => a.line),
      ["ALERT backlog AKIRA_CDR/billing: 9 messages pending (limit 5)"],
    );
    assert.deepEqual(poll(12).raised, []);
    const cleared = poll(0);
    assert.deepEqual(
      cleared.resolved.map((a) => `${a.kind} ${a.subject}`),
      ["backlog AKIRA_CDR/billing"],
    );
    assert.equal(tracker.raised.length, 1);
  });

  it("backlog growth on growthPolls polls in a row", () => {
    const tracker = new AlertTracker({ ...DEFAULT_THRESHOLDS, growthPolls: 3, confirmPolls: 1 });
    const history = new Map();
    const lines: string[] = [];
    for (const [i, pending] of [1, 2, 3, 4].entries()) {
      const s = buildSample(
        [node("nats-1", [stream("nats-1", [], pending)])],
        "AKIRA_CDR",
        history,
        undefined,
        i * 60_000,
      );
      lines.push(...tracker.update(s).raised.map((a) => a.line));
    }
    assert.deepEqual(lines, [
      "ALERT backlog-growth AKIRA_CDR/billing: backlog grew on 3 polls in a row, now 4 (+1/min)",
    ]);
  });

  it("an unreachable node and an offline replica", () => {
    const tracker = new AlertTracker({ ...DEFAULT_THRESHOLDS, confirmPolls: 1 });
    const s = buildSample(
      [
        node("nats-1", [
          stream("nats-1", [
            replica("nats-2"),
            replica("nats-3", { offline: true, current: false, lag: 7, activeMs: 5000 }),
          ]),
        ]),
        node("nats-3", [], "unreachable (ECONNREFUSED)"),
      ],
      "AKIRA_CDR",
      new Map(),
    );
    assert.deepEqual(
      tracker.update(s).raised.map((a) => a.line),
      [
        "ALERT unhealthy nats-3: /healthz: unreachable (ECONNREFUSED)",
        "ALERT replica AKIRA_CDR@nats-3: offline, lag 7 (limit 10,000), last seen 5000 ms ago",
      ],
    );
  });
});
