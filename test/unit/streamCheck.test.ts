import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PeerInfoJson, StreamInfoJson } from "../../components/jetstream/jsApiRequest";
import { evaluateStream, type StreamCheckOptions } from "../../components/jetstream/streamCheck";

const state = { messages: 10, bytes: 100, first_seq: 1, last_seq: 10 };
const peer = (name: string, extra: Partial<PeerInfoJson> = {}): PeerInfoJson => ({
  name,
  current: true,
  active: 200e6,
  ...extra,
});
const r3 = (leader: string | undefined, replicas: PeerInfoJson[]): StreamInfoJson => ({
  config: { name: "AKIRA_CDR", num_replicas: 3 },
  state,
  cluster: { name: "akira-ga", leader, replicas },
});
const opts: StreamCheckOptions = { stream: "AKIRA_CDR" };

describe("evaluateStream - Nagios line and status like nats server check stream", () => {
  const cases: [string, StreamInfoJson, StreamCheckOptions, 0 | 1 | 2, string][] = [
    [
      "healthy R3",
      r3("nats-1", [peer("nats-2"), peer("nats-3")]),
      opts,
      0,
      "OK AKIRA_CDR OK:3 peers OK:replicas are current | peers=3;;3 offline=0 not_current=0",
    ],
    [
      "healthy R3 with seen limit",
      r3("nats-1", [peer("nats-2"), peer("nats-3")]),
      { ...opts, seenCriticalMs: 5000, lagCritical: 10 },
      0,
      "OK AKIRA_CDR OK:3 peers OK:replicas are current OK:replicas are active | peers=3;;3 offline=0 not_current=0",
    ],
    [
      "no leader",
      r3(undefined, [peer("nats-2"), peer("nats-3")]),
      opts,
      2,
      "CRITICAL AKIRA_CDR Crit:No leader",
    ],
    [
      "fewer peers than expected",
      r3("nats-1", [peer("nats-2")]),
      opts,
      2,
      "CRITICAL AKIRA_CDR Crit:Expected 3 replicas got 2 | peers=2;;3",
    ],
    [
      "--peer-expect overrides the config",
      r3("nats-1", [peer("nats-2"), peer("nats-3")]),
      { ...opts, peerExpect: 5 },
      2,
      "CRITICAL AKIRA_CDR Crit:Expected 5 replicas got 3 | peers=3;;5",
    ],
    [
      "replica offline",
      r3("nats-1", [peer("nats-2", { offline: true, current: false }), peer("nats-3")]),
      opts,
      2,
      "CRITICAL AKIRA_CDR Crit:1 replicas offline (nats-2) OK:3 peers | peers=3;;3 offline=1 not_current=0",
    ],
    [
      "replica not current - a warning",
      r3("nats-1", [peer("nats-2", { current: false, lag: 3 }), peer("nats-3")]),
      opts,
      1,
      "WARNING AKIRA_CDR Warn:1 replicas not current (nats-2) OK:3 peers | peers=3;;3 offline=0 not_current=1",
    ],
    [
      "lag above --lag-critical",
      r3("nats-1", [peer("nats-2", { current: false, lag: 500 }), peer("nats-3")]),
      { ...opts, lagCritical: 100 },
      2,
      "CRITICAL AKIRA_CDR Crit:1 replicas lagged (nats-2) Warn:1 replicas not current (nats-2) OK:3 peers | peers=3;;3 offline=0 not_current=1",
    ],
    [
      "last seen above --seen-critical",
      r3("nats-1", [peer("nats-2", { active: 12e9 }), peer("nats-3")]),
      { ...opts, seenCriticalMs: 10_000 },
      2,
      "CRITICAL AKIRA_CDR Crit:1 replicas inactive (nats-2) OK:3 peers OK:replicas are current | peers=3;;3 offline=0 not_current=0",
    ],
    [
      "pilot: R1 without cluster view",
      { config: { name: "AKIRA_CDR", num_replicas: 1 }, state },
      opts,
      0,
      "OK AKIRA_CDR OK:1 peers",
    ],
    [
      "pilot but 3 peers expected",
      { config: { name: "AKIRA_CDR", num_replicas: 1 }, state },
      { ...opts, peerExpect: 3 },
      2,
      "CRITICAL AKIRA_CDR Crit:Stream is not clustered",
    ],
  ];
  for (const [name, info, o, status, line] of cases) {
    it(name, () => {
      assert.deepEqual(evaluateStream(info, o), { status, line });
    });
  }
});
