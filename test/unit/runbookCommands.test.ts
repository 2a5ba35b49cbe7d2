import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { commandHooks, hookCommands } from "../../scripts/runbook/hooks";
import { requireHooks } from "../../scripts/runbook/publisherSteps";
import { endpointFromStack, rawConfigFromPulumi, streamResourceUrn } from "../../scripts/runbook/pulumiInfra";
import { tempDir } from "../helpers/testServers";

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/akira-nats.ts", ...args], {
    encoding: "utf8",
    env: { ...process.env, AKIRA_NATS_HOOK_PAUSE: "", AKIRA_NATS_HOOK_RESUME: "", AKIRA_NATS_HOOK_POINT: "" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("cutover --dry-run - prints the plan, exactly, and changes nothing", (t) => {
  const dir = tempDir(t);
  const r = cli(["cutover", "--stack", "ga", "--dry-run", "--state-dir", dir]);
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    `cutover of stack ga: 14 steps (dry run, nothing was changed)
 1. preflight [runbook 2-4]
    Validate the ga and staging stack config (no placeholders, secrets set), check the hooks, that the pilot answers and that the disk holds a backup
 2. backup-pilot [runbook 5]
    Back up the pilot's stream (backup.json + stream.tar.s2, as \`nats stream backup\`)
 3. provision-ga [runbook 6]
    pulumi up on the ga stack without its stream resource: the cluster nodes (AKIRA_CDR comes from the restore)
 4. cluster-formed [runbook 7]
    Every GA node answers \`server list\` and they agree on a meta leader
 5. restore-into-ga
    Restore the pilot backup into the cluster at R1 and verify its state against backup.json
 6. pause-publishers
    Pause the publishers (operator hook) until nothing is in flight
 7. copy-since-backup
    Copy the pilot's messages after the backup's last sequence into GA, with their Nats-Msg-Id; verify both streams end with the same message
 8. carry-consumer-positions
    Carry the durable consumers from the pilot to GA, each starting at the first message it had not acknowledged (found by message id: the sequences differ)
 9. point-apps-at-ga
    Point the applications at the GA URLs (operator hook; the natsUrl output of the ga stack)
10. resume-publishers
    Resume the publishers (operator hook), now writing to GA
11. replicas-up [runbook 8]
    pulumi up on the ga stack with its stream resource: it adopts the restored stream and raises it to streamReplicas (wait current, canary); every server's copy is compared
12. failover-test [runbook 9]
    Stop one node, verify that publishing and consuming go on, bring it back
13. catch-up-check [runbook 10]
    Every replica is current with zero lag again, and every server's own copy equals the leader's (a copy left behind is rebuilt)
14. start-monitor [runbook 11]
    Start watching JetStream health, disk and consumer backlog (24 hours in production)
journal: ${join(dir, "cutover-ga.journal.json")}
`,
  );
});

test("rollback --dry-run - prints the plan, exactly", (t) => {
  const dir = tempDir(t);
  const r = cli(["rollback", "--stack", "staging", "--dry-run", "--state-dir", dir]);
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    `rollback of stack staging: 12 steps (dry run, nothing was changed)
 1. preflight
    Validate the staging stack config, check the hooks, that GA and the pilot both answer and that the disk holds a backup of the GA stream
 2. backup-ga [runbook rollback 3]
    Back up the GA stream first (the state to return to should anything go wrong)
 3. carry-ga-messages
    Carry every GA message whose id the pilot lacks to the pilot, ids preserved (publishers still on GA)
 4. pause-publishers
    Pause the publishers (operator hook) until nothing is in flight
 5. carry-delta
    Carry the GA messages published since the previous step; verify the pilot holds GA's last message
 6. carry-consumer-positions
    Carry the durable consumers from GA to the pilot, each starting at the first message it had not acknowledged (found by message id: the sequences differ)
 7. point-apps-at-pilot [runbook rollback 4]
    Point the applications back at the pilot (operator hook; the natsUrl output of the staging stack)
 8. resume-publishers
    Resume the publishers (operator hook), now writing to the pilot
 9. verify-pilot-complete
    Every message of the GA stream is on the pilot (full comparison of ids)
10. replicas-down [runbook rollback 2]
    Lower the GA stream to R1 where the metadata allows it (every peer online); skipped otherwise
11. stop-ga-nodes [runbook rollback 1]
    Stop the GA nodes (their disks and the GA backup stay)
12. provision-staging [runbook rollback 5]
    pulumi up on the staging stack (cluster disabled; its stream resource adopts the pilot's AKIRA_CDR at R1); the pilot's stream is checked afterwards
journal: ${join(dir, "rollback-staging.journal.json")}
`,
  );
});

test("cutover - the wrong stack is one clear error", () => {
  const r = cli(["cutover", "--stack", "staging", "--dry-run"]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    'akira-nats: cutover moves to the cluster stack "ga", not "staging": use --stack ga (or set --ga-stack)\n',
  );
});

test("hooks - flags win over the environment, which wins over the hooks file", (t) => {
  const file = join(tempDir(t), "hooks.json");
  writeFileSync(file, JSON.stringify({ pause: "file-pause", resume: "file-resume", point: "file-point" }));
  assert.deepEqual(
    hookCommands({ hooks: file, hookPause: "flag-pause" }, { AKIRA_NATS_HOOK_RESUME: "env-resume" }),
    { pause: "flag-pause", resume: "env-resume", point: "file-point" },
  );
  writeFileSync(file, JSON.stringify({ pasue: "x" }));
  assert.throws(
    () => hookCommands({ hooks: file }, {}),
    new Error(`--hooks ${file}: "pasue" is not a hook (use pause, resume, point with a command string each)`),
  );
});

test("hooks - missing ones are named; point gets the URL; a failing one reports its output", async () => {
  assert.deepEqual(commandHooks({ pause: "true" }).missing(), [
    "--hook-resume (or AKIRA_NATS_HOOK_RESUME)",
    "--hook-point (or AKIRA_NATS_HOOK_POINT)",
  ]);
  assert.throws(
    () => requireHooks(commandHooks({ pause: "true" })),
    new Error(
      "operator hooks not configured: --hook-resume (or AKIRA_NATS_HOOK_RESUME), --hook-point (or AKIRA_NATS_HOOK_POINT) (see docs/runbook.md)",
    ),
  );
  requireHooks(commandHooks({ pause: "true", resume: "true", point: "true" }));
  const hooks = commandHooks({
    pause: "true",
    resume: "echo nope >&2; exit 3",
    point: 'test "$AKIRA_NATS_URL" = nats://10.0.1.11:4222',
  });
  await hooks.pointApplicationsAt("nats://10.0.1.11:4222");
  // With TLS, the hook also gets the authority to trust.
  const tlsHooks = commandHooks({
    pause: "true",
    resume: "true",
    point:
      'test "$AKIRA_NATS_URL" = tls://10.0.1.11:4222 && test "$AKIRA_NATS_CA" = "-----BEGIN CERTIFICATE-----"',
  });
  await tlsHooks.pointApplicationsAt("tls://10.0.1.11:4222", "-----BEGIN CERTIFICATE-----");
  await assert.rejects(tlsHooks.pointApplicationsAt("tls://10.0.1.11:4222"));
  await assert.rejects(
    hooks.resumePublishers(),
    new Error(
      "resume hook exited with 3: nope (command configured with --hook-resume, AKIRA_NATS_HOOK_RESUME or --hooks)",
    ),
  );
});

test("pulumi adapter - config keys lose the namespace, the endpoint needs natsUrl and the passwords", () => {
  const raw = rawConfigFromPulumi({
    "akira-nats:nodeCount": { value: "3", secret: false },
    "akira-nats:clientPassword": { value: "c-secret", secret: true },
    "akira-nats:systemPassword": { value: "s-secret", secret: true },
    "hcloud:token": { value: "t", secret: true },
  });
  assert.deepEqual(raw, {
    nodeCount: "3",
    clientPassword: "c-secret",
    systemPassword: "s-secret",
    "hcloud:token": "t",
  });
  const e = endpointFromStack("ga", { natsUrl: { value: "nats://10.0.1.11:4222", secret: false } }, raw);
  assert.deepEqual(e, {
    natsUrl: "nats://10.0.1.11:4222",
    client: { servers: "nats://10.0.1.11:4222", user: "akira", password: "c-secret", timeoutMs: 10_000 },
    system: { servers: "nats://10.0.1.11:4222", user: "system", password: "s-secret", timeoutMs: 10_000 },
  });
  // A stack with client TLS: its caCertificate output is trusted by both users.
  const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const secured = endpointFromStack(
    "ga",
    {
      natsUrl: { value: "tls://10.0.1.11:4222", secret: false },
      caCertificate: { value: ca, secret: false },
    },
    raw,
  );
  assert.deepEqual(secured, {
    natsUrl: "tls://10.0.1.11:4222",
    caCertificate: ca,
    client: {
      servers: "tls://10.0.1.11:4222",
      user: "akira",
      password: "c-secret",
      timeoutMs: 10_000,
      tls: { ca },
    },
    system: {
      servers: "tls://10.0.1.11:4222",
      user: "system",
      password: "s-secret",
      timeoutMs: 10_000,
      tls: { ca },
    },
  });
  assert.throws(
    () => endpointFromStack("ga", {}, raw),
    new Error(
      "stack ga has no natsUrl output: run `pulumi up` on it first (the program exports natsUrl, the comma-separated client URLs)",
    ),
  );
  assert.throws(
    () =>
      endpointFromStack(
        "ga",
        { natsUrl: { value: "nats://x:4222", secret: false } },
        { clientPassword: "c" },
      ),
    new Error(
      "stack ga has no systemPassword: pulumi config set --secret akira-nats:systemPassword … --stack ga",
    ),
  );
});

test("pulumi adapter - the first up of ga leaves out exactly the stream resource of index.ts", () => {
  assert.equal(
    streamResourceUrn("ga"),
    "urn:pulumi:ga::akira-nats::pulumi-nodejs:dynamic/akira/jetstream:Stream::cdr-stream",
  );
});
