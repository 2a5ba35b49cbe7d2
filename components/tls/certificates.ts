/**
 * The X.509 certificates of the client TLS: one authority per cluster, one certificate per node.
 *
 * Keys are RSA-2048 from Node's own generator; certificates are built and signed with node-forge,
 * a maintained, dependency-free X.509 library (Node can parse certificates but not issue them;
 * `@pulumi/tls` needs a provider plugin no test could run here). Certificates are checked with
 * Node's `X509Certificate` and, in the tests, by real nats-server handshakes.
 */
import { generateKeyPairSync, randomBytes, X509Certificate } from "node:crypto";
import forge from "node-forge";

export interface IssuedCertificate {
  /** PEM; public. */
  readonly certificate: string;
  /** PEM (PKCS#1); a secret. */
  readonly privateKey: string;
  /** When the certificate stops being valid (ISO 8601). */
  readonly notAfter: string;
}

export interface NodeCertificateRequest {
  readonly authority: Pick<IssuedCertificate, "certificate" | "privateKey">;
  /** The node's name: its common name and a DNS name. */
  readonly commonName: string;
  /** Every address clients reach the node at (private, public, 127.0.0.1 for the admin tunnel). */
  readonly ips: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly validityDays: number;
  readonly now?: Date;
}

const DAY_MS = 86_400_000;
// A client whose clock runs a little behind must not see a certificate "not yet valid".
const BACKDATE_MS = 3_600_000;

function rsaKeyPair(): {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  pem: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs1", format: "pem" }) as string;
  return {
    privateKey: forge.pki.privateKeyFromPem(pem),
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }) as string),
    pem,
  };
}

function newCertificate(
  publicKey: forge.pki.PublicKey,
  validityDays: number,
  now: Date,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive 128-bit serial (the top bit cleared): unique without a counter kept anywhere.
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  cert.serialNumber = serial.toString("hex");
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + validityDays * DAY_MS);
  return cert;
}

function issued(cert: forge.pki.Certificate, keyPem: string): IssuedCertificate {
  return {
    certificate: forge.pki.certificateToPem(cert),
    privateKey: keyPem,
    notAfter: cert.validity.notAfter.toISOString(),
  };
}

/** A self-signed authority that may sign server certificates only (path length 0). */
export function issueAuthority(
  commonName: string,
  validityDays: number,
  now = new Date(),
): IssuedCertificate {
  const keys = rsaKeyPair();
  const cert = newCertificate(keys.publicKey, validityDays, now);
  const name = [{ name: "commonName", value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return issued(cert, keys.pem);
}

/** A server certificate for one node, signed by `authority`. */
export function issueNodeCertificate(req: NodeCertificateRequest): IssuedCertificate {
  const now = req.now ?? new Date();
  const keys = rsaKeyPair();
  const ca = forge.pki.certificateFromPem(req.authority.certificate);
  const caKey = forge.pki.privateKeyFromPem(req.authority.privateKey);
  const cert = newCertificate(keys.publicKey, req.validityDays, now);
  cert.setSubject([{ name: "commonName", value: req.commonName }]);
  cert.setIssuer(ca.subject.attributes);
  const dns = [req.commonName, ...(req.dnsNames ?? [])];
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [...dns.map((value) => ({ type: 2, value })), ...req.ips.map((ip) => ({ type: 7, ip }))],
    },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return issued(cert, keys.pem);
}

/** When the certificate in `pem` expires. */
export function certificateExpiry(pem: string): Date {
  return new Date(new X509Certificate(pem).validTo);
}

/** True when `pem` expires within `renewBeforeDays` of `now` (or has expired). */
export function renewalDue(pem: string, renewBeforeDays: number, now = new Date()): boolean {
  return certificateExpiry(pem).getTime() - now.getTime() <= renewBeforeDays * DAY_MS;
}
