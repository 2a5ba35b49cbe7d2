/**
 * The akira-nats program: read and validate the stack config, build the stack's components,
 * export what applications and operators need. `staging` is the single-node pilot on the existing
 * host, `ga` the three-node cluster on Hetzner Cloud (docs/stacks.md).
 */
import * as pulumi from "@pulumi/pulumi";
import { NatsCluster } from "./components/cluster/natsCluster";
import type { NatsDeployment } from "./components/cluster/natsDeployment";
import { PilotNode } from "./components/cluster/pilotNode";
import { readStackConfig } from "./components/config/config";
import {
  maxFileStoreBytes,
  PRICES_CHECKED,
  monthlyCostEur as serverCostEur,
} from "./components/config/serverTypes";
import { JetStreamStream } from "./components/stream/jetStreamStream";

// The Hetzner provider takes its token from `hcloud:token`, else from HCLOUD_TOKEN: the validator
// checks whichever the provider will use, so the read/write token can stay out of the stack file.
const { config, warnings } = readStackConfig((k) =>
  k === "hcloud:token"
    ? (pulumi.runtime.getConfig("hcloud:token") ?? process.env.HCLOUD_TOKEN)
    : pulumi.runtime.getConfig(`akira-nats:${k}`),
);
// Said at preview, before anything changes: an old pin, a change of the pilot's server.
for (const warning of warnings) pulumi.log.warn(warning);
// Secrets become Pulumi secrets the moment they are read: everything derived from them is secret.
const clientPassword = pulumi.secret(config.clientPassword);
const systemPassword = pulumi.secret(config.systemPassword);
const clusterPassword = pulumi.secret(config.clusterPassword ?? "");
const sshPrivateKey = pulumi.secret(config.sshPrivateKey);

const deployment: NatsDeployment =
  config.mode === "cluster"
    ? new NatsCluster("nats", {
        clusterName: config.clusterName,
        nodeCount: config.nodeCount,
        serverType: config.serverType,
        location: config.location,
        image: config.image,
        privateNetworkCidr: config.privateNetworkCidr,
        adminCidrs: config.adminCidrs,
        clientCidrs: config.clientCidrs,
        sshPublicKey: config.sshPublicKey,
        sshNextPublicKey: config.sshNextPublicKey,
        acceptedChanges: config.acceptLiveChange,
        nodeHostKeys: config.nodeHostKeys,
        sshPrivateKey,
        natsVersion: config.natsVersion,
        natsSha256: config.natsSha256,
        maxFileStoreBytes: maxFileStoreBytes(config.serverType),
        clientPassword,
        systemPassword,
        clusterPassword,
        absorbPilot: config.absorbPilot,
        tlsCertificateDays: config.tlsCertificateDays,
        tlsRenewBeforeDays: config.tlsRenewBeforeDays,
      })
    : new PilotNode("pilot", {
        pilotHost: config.pilotHost,
        pilotName: config.pilotName,
        sshUser: config.pilotSshUser,
        hostKey: config.pilotHostKey,
        clientTls: config.pilotClientTls,
        tlsCertificateDays: config.tlsCertificateDays,
        tlsRenewBeforeDays: config.tlsRenewBeforeDays,
        sshPrivateKey,
        natsVersion: config.natsVersion,
        natsSha256: config.natsSha256,
        maxFileStoreBytes: config.pilotMaxFileStoreGb * 1_000_000_000,
        clientPassword,
        systemPassword,
      });

// AKIRA_CDR after every node is healthy. createIfMissing is false on BOTH stacks: on ga the stream
// comes from the pilot's backup (a standalone server's streams are not adopted by a cluster), and
// on staging an empty stream created by `pulumi up` would block the rollback's `stream restore`
// (JetStream refuses to restore over an existing stream). The admin connection runs through an
// SSH tunnel via the first node, so no NATS credential crosses the internet in clear.
const stream = new JetStreamStream(
  "cdr-stream",
  {
    streamName: config.streamName,
    replicas: config.streamReplicas,
    subjects: config.streamSubjects,
    ...config.streamSettings,
    servers: [...deployment.adminServers],
    ...(deployment.caCertificate === undefined ? {} : { tlsCa: deployment.caCertificate }),
    createIfMissing: false,
    adminTunnel: deployment.adminTunnel,
  },
  { dependsOn: [...deployment.nodeCommands] },
);

/** Every node's client URL, comma-separated, without credentials: the applications' NATS_URL (`tls://` on ga). */
export const natsUrl = deployment.natsUrl;
/** The authority applications trust for client TLS (public; absent while the pilot runs plain). */
export const caCertificate = deployment.caCertificate;
export const mode = config.mode;
/** Each node's name, client address, SSH address, and the checksum of the conf it gets (drift). */
export const nodes = deployment.deployedNodes;
export const clusterName = deployment.clusterName;
export const streamName = stream.streamName;
export const streamReplicas = stream.replicas;
/** Servers this stack pays for (the pilot host is shared and costs nothing extra), EUR/month excl. VAT. */
export const monthlyCostEur =
  config.mode === "cluster" ? serverCostEur(config.serverType, config.nodeCount) : 0;
export const pricesChecked = PRICES_CHECKED;
