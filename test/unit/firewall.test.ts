import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { firewallRules } from "../../components/cluster/firewall";

describe("firewall - inbound rules of the GA nodes", () => {
  it("exact rules - 22 from adminCidrs, 4222 from clientCidrs, nothing else", () => {
    assert.deepEqual(firewallRules(["198.51.100.7/32"], ["10.20.0.0/16", "192.0.2.0/24"]), [
      {
        description: "ssh from adminCidrs",
        direction: "in",
        protocol: "tcp",
        port: "22",
        sourceIps: ["198.51.100.7/32"],
      },
      {
        description: "nats clients from clientCidrs",
        direction: "in",
        protocol: "tcp",
        port: "4222",
        sourceIps: ["10.20.0.0/16", "192.0.2.0/24"],
      },
    ]);
  });

  it("no rule for the route or monitoring port", () => {
    const ports = firewallRules(["0.0.0.0/0"], ["0.0.0.0/0"]).map((r) => r.port);
    assert.deepEqual(ports, ["22", "4222"]);
  });

  it("empty lists - refused with the reason", () => {
    assert.throws(() => firewallRules([], ["10.0.0.0/8"]), {
      message: "firewallRules: adminCidrs is empty, nobody could reach SSH",
    });
    assert.throws(() => firewallRules(["10.0.0.0/8"], []), {
      message: "firewallRules: clientCidrs is empty, no client could reach NATS",
    });
  });
});
