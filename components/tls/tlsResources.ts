/**
 * The client-TLS certificates as resources: `TlsAuthority` (one per cluster) and
 * `TlsNodeCertificate` (one per node), issued once (certificates.ts) and kept in state, the
 * private keys only as secret outputs. Neither talks to any API.
 *
 * Renewal is a replacement planned by `diff`: at every preview and up, a certificate that expires
 * within `renewBeforeDays` is replaced by a new one. A new node certificate changes that node's
 * conf (the files' directory is named by the certificate) and command, so the nodes roll onto
 * their new certificates one at a time behind the health gate, like any config change; a renewed
 * authority re-issues every node's certificate the same way. Clients trust the authority
 * (`caCertificate`), so a node's renewal needs nothing from them.
 */
import * as pulumi from "@pulumi/pulumi";
import { holdsUnknown } from "../provider/previewUnknowns";
import { portableProviderShell } from "../provider/providerShell";
import { type IssuedCertificate, issueAuthority, issueNodeCertificate, renewalDue } from "./certificates";

/** The authority's lifetime: renewed by the same rule as the nodes' certificates. */
export const TLS_AUTHORITY_DAYS = 3650;

interface AuthorityInputs {
  readonly commonName: string;
  readonly validityDays: number;
  readonly renewBeforeDays: number;
}
type AuthorityOutputs = AuthorityInputs & IssuedCertificate;

interface NodeCertificateInputs {
  readonly node: string;
  readonly ips: readonly string[];
  readonly authorityCertificate: string;
  readonly authorityPrivateKey: string;
  readonly validityDays: number;
  readonly renewBeforeDays: number;
}
type NodeCertificateOutputs = NodeCertificateInputs & IssuedCertificate;

/** Inputs whose change means a new certificate (validity settings apply to the next one). */
const AUTHORITY_IDENTITY = ["commonName"] as const;
const NODE_IDENTITY = ["node", "ips", "authorityCertificate"] as const;

function plannedRenewal<O extends IssuedCertificate & { renewBeforeDays: number }, N>(
  olds: O,
  news: N & { renewBeforeDays: number },
  identity: readonly (keyof O & keyof N)[],
): pulumi.dynamic.DiffResult {
  const changed = identity.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
  const due = olds.certificate !== undefined && renewalDue(olds.certificate, news.renewBeforeDays);
  const replaces = [...changed.map(String), ...(due ? ["certificate"] : [])];
  const settings = ["renewBeforeDays", "validityDays"].some(
    (k) =>
      JSON.stringify((olds as Record<string, unknown>)[k]) !==
      JSON.stringify((news as Record<string, unknown>)[k]),
  );
  return { changes: replaces.length > 0 || settings, replaces, deleteBeforeReplace: false };
}

/**
 * What both providers do beyond issuing: an update keeps the certificate and records the new
 * settings, a read returns what state holds, a delete leaves nothing to remove (no API is called).
 */
function recordOnly<I, O extends I>(): Pick<
  pulumi.dynamic.ResourceProvider<I, O>,
  "update" | "read" | "delete"
> {
  return {
    async update(_id, olds, news) {
      return { outs: { ...olds, ...news } };
    },
    async read(id, props) {
      return { id, props };
    },
    async delete() {},
  };
}

export function createTlsAuthorityProvider(): pulumi.dynamic.ResourceProvider<
  AuthorityInputs,
  AuthorityOutputs
> {
  return {
    async check(_olds, news) {
      return { inputs: news };
    },
    async diff(_id, olds, news) {
      return plannedRenewal(olds, news, AUTHORITY_IDENTITY);
    },
    async create(inputs) {
      const issued = issueAuthority(inputs.commonName, inputs.validityDays);
      return { id: `authority-${issued.notAfter}`, outs: { ...inputs, ...issued } };
    },
    ...recordOnly<AuthorityInputs, AuthorityOutputs>(),
  };
}

export function createTlsNodeCertificateProvider(): pulumi.dynamic.ResourceProvider<
  NodeCertificateInputs,
  NodeCertificateOutputs
> {
  return {
    async check(_olds, news) {
      return { inputs: news };
    },
    async diff(_id, olds, news) {
      if (holdsUnknown(news)) return { changes: true };
      return plannedRenewal(olds, news, NODE_IDENTITY);
    },
    async create(inputs) {
      const issued = issueNodeCertificate({
        authority: { certificate: inputs.authorityCertificate, privateKey: inputs.authorityPrivateKey },
        commonName: inputs.node,
        ips: inputs.ips,
        validityDays: inputs.validityDays,
      });
      return { id: `${inputs.node}-${issued.notAfter}`, outs: { ...inputs, ...issued } };
    },
    ...recordOnly<NodeCertificateInputs, NodeCertificateOutputs>(),
  };
}

let authorityShell: pulumi.dynamic.ResourceProvider<AuthorityInputs, AuthorityOutputs> | undefined;
let nodeShell: pulumi.dynamic.ResourceProvider<NodeCertificateInputs, NodeCertificateOutputs> | undefined;

const ISSUED_OUTPUTS = { certificate: undefined, privateKey: undefined, notAfter: undefined };

export class TlsAuthority extends pulumi.dynamic.Resource {
  declare readonly certificate: pulumi.Output<string>;
  declare readonly privateKey: pulumi.Output<string>;
  declare readonly notAfter: pulumi.Output<string>;

  constructor(name: string, args: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    authorityShell ??= portableProviderShell("components/tls/tlsResources.ts", "createTlsAuthorityProvider");
    super(
      authorityShell,
      name,
      { ...args, ...ISSUED_OUTPUTS },
      { ...opts, additionalSecretOutputs: ["privateKey"] },
      "akira/tls",
      "Authority",
    );
  }
}

export class TlsNodeCertificate extends pulumi.dynamic.Resource {
  declare readonly certificate: pulumi.Output<string>;
  declare readonly privateKey: pulumi.Output<string>;
  declare readonly notAfter: pulumi.Output<string>;

  constructor(name: string, args: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    nodeShell ??= portableProviderShell("components/tls/tlsResources.ts", "createTlsNodeCertificateProvider");
    super(
      nodeShell,
      name,
      // The authority's key is an input: kept a secret in state as everywhere else.
      { ...args, authorityPrivateKey: pulumi.secret(args.authorityPrivateKey), ...ISSUED_OUTPUTS },
      { ...opts, additionalSecretOutputs: ["privateKey", "authorityPrivateKey"] },
      "akira/tls",
      "NodeCertificate",
    );
  }
}
