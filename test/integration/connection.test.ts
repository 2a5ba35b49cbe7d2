import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connectNats } from "../../components/jetstream/connection";
import { AuthorizationError, UnreachableError } from "../../components/jetstream/errors";
import { freePort } from "../../scripts/local/localNats";
import { startPilot } from "../helpers/testServers";

describe("connection - failures name the cause", () => {
  it("connects with the client user", async (t) => {
    const pilot = await startPilot(t);
    const nc = await connectNats({
      servers: pilot.servers,
      user: "akira",
      password: pilot.secrets.clientPassword,
    });
    assert.equal(nc.info?.server_name, "akira-cache-01-staging");
    await nc.close();
  });

  it("bad password - AuthorizationError names the user, never the password", async (t) => {
    const pilot = await startPilot(t);
    const err = await connectNats({
      servers: pilot.servers,
      user: "akira",
      password: "wrong-password-123",
    }).catch((e) => e);
    assert.ok(err instanceof AuthorizationError);
    assert.equal(
      err.message,
      `NATS at ${pilot.servers} refused user "akira": check --user/--password (or NATS_USER/NATS_PASSWORD; for the stacks: pulumi config set --secret akira-nats:clientPassword …)`,
    );
    assert.ok(!err.message.includes("wrong-password-123"));
  });

  it("unreachable - fails within the timeout and names every URL", async () => {
    const a = `nats://127.0.0.1:${await freePort("127.0.0.1")}`;
    const b = `nats://127.0.0.2:${await freePort("127.0.0.2")}`;
    const started = Date.now();
    const err = await connectNats({ servers: `${a},${b}`, timeoutMs: 1500 }).catch((e) => e);
    assert.ok(err instanceof UnreachableError);
    assert.match(err.message, new RegExp(`^cannot reach NATS at ${a}, ${b} \\(.*gave up after 1500 ms\\)`));
    assert.ok(Date.now() - started < 4000);
  });
});
