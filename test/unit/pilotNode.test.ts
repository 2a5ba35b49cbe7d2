import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { renderCloudInitWait, renderHostPrepareScript } from "../../components/cluster/cloudInit";
import { renderNodeCommand } from "../../components/cluster/nodeConfigCommand";
import { PilotNode } from "../../components/cluster/pilotNode";
import { PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";
import { installMocks, settled, unwrap } from "../helpers/pulumiMocks";
import { tempDir } from "../helpers/testServers";

const SCRIPT = {
  natsVersion: PINNED_NATS_VERSION,
  natsSha256: "a".repeat(64),
  confText: 'server_name: "x"\n',
  monitorUrl: "http://127.0.0.1:8222",
};

function syntaxCheck(shell: string, text: string): { status: number | null; stderr: string } {
  const r = spawnSync(shell, ["-n"], { input: text, encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

describe("PilotNode - component", () => {
  it("one command on the pilot host, its SSH user, defaults for the name", async () => {
    const mocks = await installMocks({ stack: "staging", config: {} });
    const pilot = new PilotNode("p", {
      pilotHost: "95.216.10.20",
      sshUser: "admin",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINtRZ3KwwACFf5VT0mud4YI2SqV6ENz74Gt1mHpFhOWI",
      sshPrivateKey: pulumi.secret("key"),
      natsVersion: PINNED_NATS_VERSION,
      natsSha256: "a".repeat(64),
      maxFileStoreBytes: 10_000_000_000,
      clientPassword: pulumi.secret("ClientPw-7f3a9c2e1b4d8a6f"),
      systemPassword: pulumi.secret("SystemPw-2b9e4d7c1a3f5e8b"),
    });
    await settled();
    assert.deepEqual(
      mocks.resources.map((r) => [r.type, r.name]),
      [
        ["akira:nats:PilotNode", "p"],
        ["command:remote:Command", "p-config"],
      ],
    );
    const command = unwrap(mocks.byName("p-config").inputs) as {
      create: string;
      connection: { user: string };
    };
    assert.equal(command.connection.user, "admin");
    assert.match(command.create, /^sudo -n -- bash -c '/m);
    assert.match(command.create, /^server_name: "akira-cache-01-staging"$/m);
    assert.equal(pilot.natsUrl, "nats://95.216.10.20:4222");
    assert.equal(pilot.localUrl, "nats://127.0.0.1:4222");
  });
});

describe("node command text - shell syntax", () => {
  it("preambles are POSIX sh (the login shell may not be bash)", () => {
    for (const text of [renderHostPrepareScript(), renderCloudInitWait()]) {
      const r = syntaxCheck("sh", text);
      assert.equal(r.status, 0, r.stderr);
    }
  });

  it("whole command text parses as bash, for both hosts", () => {
    for (const kind of ["prepare-host", "wait-for-cloud-init"] as const) {
      const r = syntaxCheck("bash", renderNodeCommand(kind, SCRIPT));
      assert.equal(r.status, 0, `${kind}: ${r.stderr}`);
    }
  });

  it("sudo form - the exact unwrapped text reaches bash -c as one argument, stdin passed through", (t) => {
    const dir = tempDir(t);
    // A stand-in sudo that records the script argument and what arrives on stdin.
    writeFileSync(
      join(dir, "sudo"),
      `#!/bin/sh\n[ "$1 $2 $3 $4" = "-n -- bash -c" ] || exit 9\nprintf '%s' "$5" >"${dir}/script"\ncat >"${dir}/stdin"\n`,
    );
    chmodSync(join(dir, "sudo"), 0o755);
    const text = renderNodeCommand("prepare-host", SCRIPT, { sudo: true });
    const r = spawnSync("sh", ["-c", text], {
      input: "SECRET: 1\n",
      encoding: "utf8",
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(dir, "script"), "utf8"), renderNodeCommand("prepare-host", SCRIPT));
    assert.equal(readFileSync(join(dir, "stdin"), "utf8"), "SECRET: 1\n");
  });

  it("a broken preamble would be caught (the check can fail)", () => {
    assert.notEqual(syntaxCheck("sh", `${renderCloudInitWait()}if then\n`).status, 0);
  });
});
