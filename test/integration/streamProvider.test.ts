import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import { jsApiRequest } from "../../components/jetstream/jsApiRequest";
import { createStream, streamSnapshotInfo, updateStream } from "../../components/jetstream/streams";
import { UNKNOWN_VALUE } from "../../components/provider/previewUnknowns";
import { JetStreamStream, STREAM_RESOURCE_TYPE } from "../../components/stream/jetStreamStream";
import {
  checkInputs,
  createStreamProvider,
  type StreamInputs,
  type StreamOutputs,
  type StreamProvider,
} from "../../components/stream/jetStreamStreamProvider";
import { freePort, type LocalDeployment } from "../../scripts/local/localNats";
import { captureDynamicResources, hostConfig, reviveProvider } from "../helpers/dynamicProvider";
import { sshdUnavailable, startSshd } from "../helpers/localSshd";
import { startCluster } from "../helpers/testServers";

const ENV_KEYS = [
  "AKIRA_NATS_PASSWORD",
  "NATS_PASSWORD",
  "AKIRA_NATS_SYSTEM_PASSWORD",
  "AKIRA_NATS_SSH_PRIVATE_KEY",
];

describe("stream provider - serialized by Pulumi, revived like the host, driven against a real cluster", () => {
  let cluster: LocalDeployment;
  let nc: NatsConnection;
  let provider: StreamProvider;
  let providerText: string;
  let captured: Awaited<ReturnType<typeof captureDynamicResources>>;
  const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  const lines: string[] = [];
  const realLog = console.log;

  // Cleanups registered while the suite runs, undone in reverse once it ends.
  const cleanups: (() => unknown)[] = [];
  const suite = { after: (fn: () => unknown) => cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  before(async () => {
    cluster = await startCluster(suite);
    nc = await connectNats({
      servers: cluster.servers,
      user: "akira",
      password: cluster.secrets.clientPassword,
    });
    suite.after(() => nc.close());
    for (const k of ENV_KEYS) delete process.env[k];
    // The client password from the environment, the system password from the stack config: both paths.
    process.env.AKIRA_NATS_PASSWORD = cluster.secrets.clientPassword;
    captured = await captureDynamicResources(() => [
      new JetStreamStream("cdr", {
        streamName: "AKIRA_CDR",
        replicas: 3,
        subjects: ["akira.cdr.>"],
        servers: cluster.servers.split(","),
      }),
    ]);
    providerText = captured[0]?.providerText ?? "";
    provider = reviveProvider<StreamProvider>(providerText);
    await provider.configure({
      config: hostConfig({ "akira-nats:systemPassword": cluster.secrets.systemPassword }),
    });
    console.log = (...args: unknown[]) => lines.push(args.join(" "));
  });
  after(() => {
    console.log = realLog;
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const inputs = (stream: string, extra: Partial<StreamInputs> = {}): StreamInputs => ({
    streamName: stream,
    replicas: 1,
    subjects: [`akira.${stream.toLowerCase()}.>`],
    maxMsgs: -1,
    servers: cluster.servers.split(","),
    timeoutSeconds: 60,
    ...extra,
  });
  const name = () => `CDR_${crypto.randomUUID().slice(0, 8).toUpperCase()}`;

  it("registers akira/jetstream:Stream with a __provider that holds no secret", () => {
    assert.equal(captured[0]?.type, STREAM_RESOURCE_TYPE);
    assert.equal(captured[0]?.type, "pulumi-nodejs:dynamic/akira/jetstream:Stream");
    assert.ok(providerText.includes("exports.handler"));
    for (const secret of Object.values(cluster.secrets)) assert.ok(!providerText.includes(secret));
    assert.doesNotMatch(providerText, /password|PRIVATE KEY/i);
    assert.deepEqual(Object.keys(captured[0]?.inputs ?? {}).sort(), [
      "__provider",
      "replicas",
      "servers",
      "streamName",
      "subjects",
    ]);
  });

  it("create - a missing stream is refused unless createIfMissing, naming the restore", async () => {
    const stream = name();
    const err = await provider.create(inputs(stream)).catch((e) => e);
    assert.equal(
      err.message,
      `stream ${stream} does not exist on ${cluster.servers.split(",").join(", ")}: restore it from the pilot backup first (akira-nats stream restore <dir>, or run the cutover: akira-nats cutover), or set createIfMissing: true to create it empty`,
    );
    const created = await provider.create(inputs(stream, { createIfMissing: true }));
    assert.equal(created.id, stream);
    assert.equal(created.outs?.messages, 0);
  });

  it("create adopts without touching data; diff/update R1→R3 in place; read sees live state", async () => {
    const stream = name();
    await createStream(nc, stream, { subjects: [`akira.${stream.toLowerCase()}.>`], replicas: 1 });
    for (let i = 0; i < 500; i++)
      nc.publish(`akira.${stream.toLowerCase()}.call`, new TextEncoder().encode(`${i}`));
    await nc.flush();
    while ((await streamSnapshotInfo(nc, stream)).state.messages < 500)
      await new Promise((r) => setTimeout(r, 50));

    const created = await provider.create(inputs(stream));
    assert.equal(created.outs?.messages, 500);
    assert.equal(created.outs?.replicas, 1);
    assert.ok(
      lines.some(
        (l) => l === `${stream}: adopting the existing stream (500 messages, R1); its data is not touched`,
      ),
    );

    const news = inputs(stream, { replicas: 3 });
    assert.deepEqual(await provider.diff(stream, created.outs as StreamOutputs, news), {
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const updated = await provider.update(stream, created.outs as StreamOutputs, news);
    assert.equal(updated.outs?.replicas, 3);
    assert.equal(updated.outs?.peers.length, 3);
    assert.equal(updated.outs?.replicasCurrent, true);
    assert.equal(updated.outs?.messages, 500, "the canary was deleted again");
    assert.ok(
      lines.some((l) => l.startsWith(`${stream} R1→R3: leader `)),
      "progress reached the Pulumi log",
    );

    const read = await provider.read(stream, updated.outs as StreamOutputs);
    assert.equal(read.id, stream);
    assert.equal(read.props?.replicas, 3);
    assert.deepEqual(await provider.diff(stream, read.props as StreamOutputs, news), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("read - a change made by hand (replicas, max_msgs) shows as drift", async () => {
    const stream = name();
    const created = await provider.create(inputs(stream, { createIfMissing: true }));
    await updateStream(nc, stream, { replicas: 3, maxMsgs: 1000 });

    const read = await provider.read(stream, created.outs as StreamOutputs);
    assert.equal(read.props?.replicas, 3);
    assert.equal(read.props?.maxMsgs, 1000);
    const diff = await provider.diff(stream, read.props as StreamOutputs, inputs(stream));
    assert.equal(diff.changes, true);
  });

  it("read - a vanished stream is reported, not recreated", async () => {
    const stream = name();
    const created = await provider.create(inputs(stream, { createIfMissing: true }));
    await jsApiRequest(nc, `$JS.API.STREAM.DELETE.${stream}`, undefined);
    const err = await provider.read(stream, created.outs as StreamOutputs).catch((e) => e);
    assert.equal(
      err.message,
      `stream ${stream} has vanished from ${cluster.servers.split(",").join(", ")}: it is not recreated empty; restore it from its latest backup (akira-nats stream restore <dir>), or if it is gone on purpose remove it from the stack state (pulumi state delete <urn>)`,
    );
  });

  it("diff - a storage change is refused with the reason unless allowRecreate", async () => {
    const stream = name();
    const created = await provider.create(inputs(stream, { createIfMissing: true, storage: "file" }));
    const err = await provider
      .diff(stream, created.outs as StreamOutputs, inputs(stream, { storage: "memory" }))
      .catch((e) => e);
    assert.equal(
      err.message,
      `${stream}: changing storage "file"→"memory" needs the stream recreated, which deletes its 0 messages: back it up (akira-nats stream backup), then set allowRecreate: true (and allowDelete: true to drop the old copy), or revert the change`,
    );
    const allowed = await provider.diff(
      stream,
      created.outs as StreamOutputs,
      inputs(stream, { storage: "memory", allowRecreate: true }),
    );
    assert.deepEqual(allowed, { changes: true, replaces: ["storage"], deleteBeforeReplace: true });
  });

  it("create - a storage mismatch is refused, and recreates the stream only with allowRecreate", async () => {
    const stream = name();
    await createStream(nc, stream, { subjects: [`akira.${stream.toLowerCase()}.>`], storage: "file" });
    await nc.jetstream().publish(`akira.${stream.toLowerCase()}.x`);
    const err = await provider.create(inputs(stream, { storage: "memory" })).catch((e) => e);
    assert.equal(
      err.message,
      `${stream} exists with file storage, declared memory: changing storage needs the stream recreated, which deletes its 1 messages; back it up, then set allowRecreate: true`,
    );
    assert.equal((await streamSnapshotInfo(nc, stream)).state.messages, 1);
    const created = await provider.create(inputs(stream, { storage: "memory", allowRecreate: true }));
    assert.equal(created.outs?.storage, "memory");
    assert.equal(created.outs?.messages, 0);
  });

  it("delete - keeps the stream and its messages unless allowDelete", async () => {
    const stream = name();
    const created = await provider.create(inputs(stream, { createIfMissing: true }));
    await provider.delete(stream, created.outs as StreamOutputs);
    assert.ok((await streamSnapshotInfo(nc, stream)).config.name === stream);
    assert.ok(
      lines.includes(
        `${stream}: kept on the servers with its 0 messages (allowDelete is not set): only the Pulumi resource is removed; delete the stream by hand (nats stream rm ${stream}) if that is really wanted`,
      ),
    );
    await provider.delete(stream, { ...(created.outs as StreamOutputs), allowDelete: true });
    await assert.rejects(streamSnapshotInfo(nc, stream), { code: "stream-not-found" });
  });

  it("bad password and unreachable servers give their messages", async () => {
    const stream = name();
    process.env.AKIRA_NATS_PASSWORD = "not-the-password";
    try {
      const err = await provider.read(stream, inputs(stream) as StreamOutputs).catch((e) => e);
      assert.equal(
        err.message,
        `NATS at ${cluster.servers.split(",").join(", ")} refused user "akira": check --user/--password (or NATS_USER/NATS_PASSWORD; for the stacks: pulumi config set --secret akira-nats:clientPassword …)`,
      );
      assert.ok(!err.message.includes("not-the-password"));
    } finally {
      process.env.AKIRA_NATS_PASSWORD = cluster.secrets.clientPassword;
    }
    const nowhere = `nats://127.0.0.1:${await freePort("127.0.0.1")}`;
    const err = await provider
      .read(stream, inputs(stream, { servers: [nowhere], connectTimeoutSeconds: 1 }) as StreamOutputs)
      .catch((e) => e);
    assert.match(err.message, new RegExp(`^cannot reach NATS at ${nowhere} \\(.*gave up after 1000 ms\\)`));
  });

  it("works through the admin tunnel (real sshd, key from the environment)", {
    skip: sshdUnavailable(),
  }, async (t) => {
    const sshd = await startSshd(t);
    process.env.AKIRA_NATS_SSH_PRIVATE_KEY = sshd.privateKey;
    t.after(() => {
      delete process.env.AKIRA_NATS_SSH_PRIVATE_KEY;
    });
    const stream = name();
    const created = await provider.create(
      inputs(stream, {
        createIfMissing: true,
        adminTunnel: { sshHost: sshd.host, sshPort: sshd.port, sshUser: sshd.user },
      }),
    );
    assert.equal(created.outs?.streamName, stream);
    assert.ok(!JSON.stringify(created.outs).includes("PRIVATE KEY"));
  });
});

describe("stream provider - input checks", () => {
  it("names each bad input with the fix", () => {
    assert.deepEqual(
      checkInputs({
        streamName: "akira.cdr",
        replicas: 4.5,
        subjects: [],
        servers: ["nats://u:p@10.0.1.11:4222"],
      }),
      [
        {
          property: "streamName",
          reason: "a stream name without spaces, dots, *, >, / or \\ is required (e.g. AKIRA_CDR)",
        },
        { property: "replicas", reason: "an integer from 1 to 5 is required, got 4.5" },
        { property: "subjects", reason: 'at least one subject is required (e.g. ["akira.cdr.>"])' },
        {
          property: "servers",
          reason: "URLs must not carry credentials: set akira-nats:clientPassword (or AKIRA_NATS_PASSWORD)",
        },
      ],
    );
  });

  it("check() passes preview placeholders through and judges them at up", async () => {
    const provider = createStreamProvider({ log: () => {} });
    const news = {
      streamName: "AKIRA_CDR",
      replicas: UNKNOWN_VALUE as unknown as number,
      subjects: UNKNOWN_VALUE as unknown as string[],
      servers: ["nats://10.0.1.11:4222", UNKNOWN_VALUE],
      adminTunnel: { sshHost: UNKNOWN_VALUE, sshUser: "root" },
    } as StreamInputs;
    assert.deepEqual(await provider.check({} as StreamInputs, news), { inputs: news, failures: [] });
    // A known bad value beside the placeholders is still refused.
    assert.deepEqual(await provider.check({} as StreamInputs, { ...news, streamName: "akira.cdr" }), {
      inputs: { ...news, streamName: "akira.cdr" },
      failures: [
        {
          property: "streamName",
          reason: "a stream name without spaces, dots, *, >, / or \\ is required (e.g. AKIRA_CDR)",
        },
      ],
    });
  });
});
