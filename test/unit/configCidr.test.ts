import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  addressIn,
  cidr,
  cidrContains,
  isNetworkAddress,
  networkOf,
  parseCidr,
} from "../../components/config/configCidr";
import { findPlaceholder } from "../../components/config/placeholders";

describe("configCidr - parsing and arithmetic", () => {
  for (const [text, network, isNetwork] of [
    ["10.1.2.3/16", "10.1.0.0/16", false],
    ["0.0.0.0/0", "0.0.0.0/0", true],
    ["203.0.113.77/32", "203.0.113.77/32", true],
    ["2001:db8:0:0:1::1/64", "2001:db8::/64", false],
    ["fe80::1/10", "fe80::/10", false],
    ["::ffff:192.0.2.1/96", "::ffff:0:0/96", false],
    ["1:0:0:2:0:0:0:3/128", "1:0:0:2::3/128", true],
  ] as const) {
    it(`${text} → network ${network}`, () => {
      const parsed = parseCidr(text);
      assert.ok(typeof parsed !== "string", String(parsed));
      assert.equal(networkOf(parsed), network);
      assert.equal(isNetworkAddress(parsed), isNetwork);
    });
  }

  for (const [text, reason] of [
    ["10.0.0.0", "has no prefix length (write e.g. 198.51.100.7/32 for one address)"],
    ["10.0.0.256/8", '"10.0.0.256" is not an IPv4 or IPv6 address'],
    ["10.0.0.0/-1", "the prefix length must be a whole number from 0 to 32"],
    ["::/129", "the prefix length must be a whole number from 0 to 128"],
    ["10.0.0.0/8/8", "the prefix length must be a whole number from 0 to 32"],
  ] as const) {
    it(`${text} is refused: ${reason}`, () => assert.equal(parseCidr(text), reason));
  }

  it("containment", () => {
    assert.equal(cidrContains(cidr("172.16.0.0/12"), cidr("172.31.255.0/24")), true);
    assert.equal(cidrContains(cidr("172.16.0.0/12"), cidr("172.32.0.0/24")), false);
    assert.equal(cidrContains(cidr("10.0.0.0/8"), cidr("0.0.0.0/0")), false);
    assert.equal(cidrContains(cidr("::/0"), cidr("10.0.0.0/8")), false);
    assert.equal(addressIn("2001:db8::1", cidr("2001:db8::/32")), true);
    assert.equal(addressIn("2001:db9::1", cidr("2001:db8::/32")), false);
    assert.equal(addressIn("not-an-ip", cidr("0.0.0.0/0")), false);
  });
});

describe("placeholders - what counts as one", () => {
  for (const [value, kind, found] of [
    ["CHANGEME", "text", '"CHANGEME"'],
    ["change_me", "text", '"change_me"'],
    ["host.todo.lan", "text", '"todo"'],
    ["2.10.xxx", "text", '"xxx"'],
    ["<your office /32>", "address", '"<your office /32>"'],
    ["192.0.2.0/24", "address", "an address in the documentation range 192.0.2.0/24"],
    ["broker.example.net.", "address", "a name in the documentation domain example.net"],
    ["host.invalid", "address", "a name in the documentation domain invalid"],
    ["todolist.akira.io", "text", undefined],
    ["boxxx", "text", undefined],
    ["192.0.3.1", "address", undefined],
    ["192.0.0.0/16", "address", undefined],
    ["example.com", "text", undefined],
    ["Xx9-todo-Yy8", "secret", undefined],
    ["TODO", "secret", "a placeholder"],
    ["prefix-CHANGEME-suffix", "secret", "a placeholder"],
  ] as const) {
    it(`${JSON.stringify(value)} as ${kind} → ${found ?? "none"}`, () => {
      assert.equal(findPlaceholder(value, kind), found);
    });
  }
});
