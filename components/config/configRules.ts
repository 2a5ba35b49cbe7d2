/**
 * The per-key rules of the stack config as zod schemas: each takes the raw string Pulumi stores
 * (numbers and booleans as text, lists as JSON) and yields the typed value or issues whose
 * message is the broken rule. Rules that relate two keys live in `configCrossRules.ts`.
 *
 * Messages quote a bad value only for non-secret keys; secret rules never mention the value.
 */

import { isIP } from "node:net";
import { utils } from "ssh2";
import { z } from "zod";
import { MAX_REPLICAS } from "../jetstream/streamRules";
import { type Cidr, cidr, cidrContains, isNetworkAddress, networkOf, parseCidr } from "./configCidr";
import { vulnerablePinReason } from "./natsAdvisories";
import { HETZNER_LOCATIONS, SERVER_TYPES } from "./serverTypes";

export type Mode = "single" | "cluster";

/** Raw string in, typed value out; issue paths hold the list index for list entries. */
type Field<T> = z.ZodType<T, string>;

function rule<T>(check: (text: string, fail: (message: string, index?: number) => void) => T): Field<T> {
  return z.string().transform((text, ctx) => {
    let failed = false;
    const value = check(text, (message, index) => {
      failed = true;
      ctx.addIssue({ code: "custom", message, path: index === undefined ? [] : [index] });
    });
    return failed ? z.NEVER : value;
  });
}

const matching = (pattern: RegExp, what: string): Field<string> =>
  rule((text, fail) => {
    if (!pattern.test(text)) fail(`${what}, not "${text}"`);
    return text;
  });

const integer = (min: number, max: number, why = ""): Field<number> =>
  rule((text, fail) => {
    const n = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= min && n <= max)) fail(`must be a whole number from ${min} to ${max}${why}, not "${text}"`);
    return n;
  });

const boolean: Field<boolean> = rule((text, fail) => {
  if (text !== "true" && text !== "false") fail(`must be true or false, not "${text}"`);
  return text === "true";
});

const oneOf = <T extends string>(allowed: readonly T[]): Field<T> =>
  rule((text, fail) => {
    if (!allowed.includes(text as T)) fail(`must be one of ${allowed.join(", ")}, not "${text}"`);
    return text as T;
  });

/** JetStream keeps durations as int64 nanoseconds: whole seconds up to 2^63 ns. */
const MAX_DURATION_SECONDS = 9_223_372_036;

/** -1 = unlimited; 0 is refused because the server stores it as -1, which would read back as drift. */
const unlimitedOrPositive: Field<number> = rule((text, fail) => {
  const n = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n === -1 || (n >= 1 && n <= Number.MAX_SAFE_INTEGER)))
    fail(`must be -1 (unlimited) or a positive whole number, not "${text}"`);
  return n;
});

/** A JSON list of strings, each checked by `entry` (which returns a reason, or undefined). */
const list = (what: string, entry: (item: string) => string | undefined): Field<string[]> =>
  rule((text, fail) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === "string")) {
      fail(`must be a list of ${what} (a JSON array of strings), not ${JSON.stringify(text)}`);
      return [];
    }
    parsed.forEach((item: string, index) => {
      const reason = entry(item);
      if (reason !== undefined) fail(`entry ${index} "${item}" ${reason}`, index);
    });
    return parsed as string[];
  });

/** Why `text` is not a network CIDR the Hetzner APIs accept, or undefined. */
export function cidrProblem(text: string): string | undefined {
  const parsed = parseCidr(text);
  if (typeof parsed === "string") return `is not a valid CIDR: ${parsed}`;
  if (!isNetworkAddress(parsed)) return `has host bits set; write the network address ${networkOf(parsed)}`;
  return undefined;
}

/** Why `text` is not a NATS subject a stream can take, or undefined. */
export function subjectProblem(text: string): string | undefined {
  if (text === "") return "is empty";
  if (/\s/.test(text) || hasControlCharacter(text)) return "contains whitespace or control characters";
  const tokens = text.split(".");
  if (tokens.some((t) => t === "")) return 'has an empty token (".." or a leading or trailing ".")';
  if (tokens.some((t) => t.length > 1 && /[*>]/.test(t))) return 'uses "*" or ">" inside a token';
  if (tokens.slice(0, -1).includes(">")) return 'uses ">" before the last token';
  return undefined;
}

const RFC1918 = [cidr("10.0.0.0/8"), cidr("172.16.0.0/12"), cidr("192.168.0.0/16")] as const;

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

// Hetzner's largest spread placement group holds 10 servers; the largest odd count is 9.
export const MAX_NODES = 9;
export const MIN_PASSWORD_LENGTH = 16;

function hasControlCharacter(text: string): boolean {
  return [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}

/** The problems of a password, each a rule it breaks. Never mentions the value. */
export function passwordProblems(password: string): string[] {
  const problems: string[] = [];
  if (password.length < MIN_PASSWORD_LENGTH) {
    problems.push(`must be at least ${MIN_PASSWORD_LENGTH} characters long`);
  }
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((c) => c.test(password)).length;
  if (classes < 2) {
    problems.push("must mix at least two kinds of characters (lowercase, uppercase, digits, symbols)");
  }
  if (/[\s"\\]/.test(password) || hasControlCharacter(password)) {
    problems.push(
      "must not contain whitespace, double quotes, backslashes or control characters (they break nats-server config quoting)",
    );
  }
  if ([...password].some((c) => c.charCodeAt(0) > 0x7f)) problems.push("must be plain ASCII");
  if (/[@:/?#%]/.test(password)) {
    problems.push(
      "must not contain @ : / ? # % (they break nats:// URLs such as nats://akira:<password>@host:4222)",
    );
  }
  if (password.includes("$")) {
    // nats-server server/auth.go isBcrypt: a password matching ^\$2[abxy]\$\d{2}\$ is a bcrypt hash;
    // nats-server#7464 proposes expanding ${VAR} even inside quoted strings.
    problems.push(
      'must not contain "$" (nats-server reads a password like $2a$10$… as a bcrypt hash, and newer versions may expand $-variables in it)',
    );
  }
  return problems;
}

const password: Field<string> = rule((text, fail) => {
  for (const problem of passwordProblems(text)) fail(problem);
  return text;
});

/** The SSH public key blob of an OpenSSH or PEM key, or the reason it is not a usable key. */
export function sshKeyBlob(text: string, want: "public" | "private"): Buffer | string {
  const parsed = utils.parseKey(text);
  if (parsed instanceof Error) {
    if (/encrypted|passphrase/i.test(parsed.message)) return "encrypted";
    return "unparsable";
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined) return "unparsable";
  if (key.isPrivateKey() !== (want === "private")) return want === "public" ? "private" : "public";
  return key.getPublicSSH();
}

/**
 * A host's public key from a known_hosts line (`host keytype base64`) or a public key line
 * (`keytype base64 [comment]`), as `keytype base64`; undefined when neither parses.
 */
export function hostPublicKey(text: string): string | undefined {
  const fields = text.trim().split(/\s+/);
  for (const start of [0, 1]) {
    const candidate = fields.slice(start, start + 2).join(" ");
    if (fields.length >= start + 2 && sshKeyBlob(candidate, "public") instanceof Buffer) return candidate;
  }
  return undefined;
}

const HOST_KEY_FORMAT =
  "must be the host's public key, as its known_hosts line or \"ssh-ed25519 AAAA…\" (ssh-keyscan -t ecdsa,ed25519 <host>, checked against ssh-keygen -lf on the host's console)";

export const FIELD_RULES = {
  mode: rule((text, fail): Mode => {
    if (text !== "single" && text !== "cluster")
      fail(`must be "single" (staging) or "cluster" (ga), not "${text}"`);
    return text as Mode;
  }),
  natsVersion: rule((text, fail) => {
    if (!/^\d+\.\d+\.\d+$/.test(text)) {
      fail(`must be a nats-server release version x.y.z without a leading "v", not "${text}"`);
      return text;
    }
    // Refused at preview, before anything is installed (issue: pin the current line).
    const vulnerable = vulnerablePinReason(text);
    if (vulnerable !== undefined) fail(vulnerable);
    return text;
  }),
  natsSha256: rule((text, fail) => {
    if (!/^[0-9a-f]{64}$/i.test(text)) {
      fail(
        `must be 64 hexadecimal digits, the SHA-256 of nats-server-v<natsVersion>-linux-amd64.tar.gz from the release's SHA256SUMS, not "${text}"`,
      );
    }
    return text.toLowerCase();
  }),
  pilotHost: rule((text, fail) => {
    if (isIP(text) === 0 && !HOST_NAME.test(text))
      fail(`must be an IP address or a DNS host name, not "${text}"`);
    return text;
  }),
  pilotName: matching(LABEL, 'must be a host name label (lowercase letters, digits and "-", at most 63)'),
  pilotSshUser: matching(
    /^[a-z_][a-z0-9_-]{0,31}$/,
    'must be a Unix user name (lowercase letters, digits, "_", "-")',
  ),
  pilotRunningVersion: matching(
    /^\d+\.\d+\.\d+$/,
    'must be a nats-server version x.y.z without a leading "v"',
  ),
  acceptPilotVersionChange: boolean,
  pilotHostKey: rule((text, fail) => {
    if (text === "") return text;
    const key = hostPublicKey(text);
    if (key === undefined) fail(HOST_KEY_FORMAT);
    return key ?? text;
  }),
  pilotMaxFileStoreGb: integer(1, 100_000),
  clusterName: matching(LABEL, 'must be a host name label (lowercase letters, digits and "-", at most 63)'),
  nodeCount: integer(1, MAX_NODES, " (a Hetzner spread placement group holds at most 10 servers)"),
  serverType: rule((text, fail) => {
    if (SERVER_TYPES[text] === undefined) {
      fail(`must be one of Hetzner's server types (${Object.keys(SERVER_TYPES).join(", ")}), not "${text}"`);
    }
    return text;
  }),
  location: rule((text, fail) => {
    if (!(HETZNER_LOCATIONS as readonly string[]).includes(text)) {
      fail(`must be one of Hetzner's locations (${HETZNER_LOCATIONS.join(", ")}), not "${text}"`);
    }
    return text;
  }),
  image: matching(
    /^(ubuntu|debian)-\d+(\.\d+)?$/,
    "must be an Ubuntu or Debian system image such as ubuntu-24.04 (cloud-init and the node script expect apt and systemd)",
  ),
  privateNetworkCidr: rule((text, fail) => {
    const problem = cidrProblem(text);
    if (problem !== undefined) {
      fail(`"${text}" ${problem}`);
      return text;
    }
    const parsed = parseCidr(text) as Cidr;
    if (!RFC1918.some((range) => cidrContains(range, parsed))) {
      fail(`must lie inside an RFC 1918 range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), not "${text}"`);
    } else if (parsed.prefix > 24) {
      fail(`must be a /24 or larger to hold the nodes' /24 subnet, not "${text}"`);
    }
    return text;
  }),
  adminCidrs: list("CIDRs", cidrProblem),
  acceptAdminFromAnywhere: boolean,
  clientCidrs: list("CIDRs", cidrProblem),
  sshPublicKey: rule((text, fail) => {
    const blob = sshKeyBlob(text, "public");
    if (blob === "private") {
      fail(
        "holds a PRIVATE key: set it as sshPrivateKey with --secret instead, and replace the key pair since it was stored in plaintext",
      );
    } else if (typeof blob === "string") {
      fail('must be an OpenSSH public key line such as "ssh-ed25519 AAAA… comment" (the .pub file)');
    }
    return text;
  }),
  sshNextPublicKey: rule((text, fail) => {
    if (text !== "" && typeof sshKeyBlob(text, "public") === "string") {
      fail('must be empty or an OpenSSH public key line such as "ssh-ed25519 AAAA… comment" (the .pub file)');
    }
    return text;
  }),
  nodeHostKeys: list("<node name> <public key> entries", (entry) =>
    /^[a-z0-9-]+\s/.test(entry.trim()) && hostPublicKey(entry) !== undefined
      ? undefined
      : "is not <node name> <public key> (akira-ga-1 ssh-ed25519 AAAA…)",
  ),
  acceptLiveChange: list("key=value entries", (entry) =>
    /^(serverType|image)=[A-Za-z0-9._-]+$/.test(entry)
      ? undefined
      : "is not serverType=<type> or image=<image>",
  ),
  tlsCertificateDays: integer(2, 3650),
  tlsRenewBeforeDays: integer(1, 365),
  pilotClientTls: boolean,
  absorbPilot: boolean,
  acceptPilotAbsorbRisk: boolean,
  streamName: matching(
    /^[A-Za-z0-9_-]{1,32}$/,
    'must be 1 to 32 letters, digits, "_" or "-" (JetStream stream names become directory names)',
  ),
  streamReplicas: integer(1, MAX_REPLICAS, " (JetStream's limit)"),
  streamSubjects: rule((text, fail) => {
    const subjects = list("subjects", subjectProblem).safeParse(text);
    if (!subjects.success) {
      for (const issue of subjects.error.issues) fail(issue.message, issue.path[0] as number | undefined);
      return [];
    }
    if (subjects.data.length === 0) fail("must name at least one subject");
    return subjects.data;
  }),
  streamStorage: rule((text, fail) => {
    if (text === "memory") {
      fail(
        'must be "file": a memory stream loses every CDR when its server restarts, and JetStream cannot back it up (the cutover starts with a backup)',
      );
    } else if (text !== "file") fail(`must be "file", not "${text}"`);
    return text as "file";
  }),
  streamRetention: oneOf(["limits", "interest", "workqueue"]),
  streamDiscard: oneOf(["old", "new"]),
  streamMaxAgeSeconds: integer(0, MAX_DURATION_SECONDS, " (0 = unlimited)"),
  streamMaxBytes: unlimitedOrPositive,
  streamMaxMsgs: unlimitedOrPositive,
  // 0 is not "off": the server turns it into its 120 s default, which would read back as drift.
  streamDuplicateWindowSeconds: integer(1, MAX_DURATION_SECONDS),
  clusterPassword: password,
  clientPassword: password,
  systemPassword: password,
  sshPrivateKey: rule((text, fail) => {
    const blob = sshKeyBlob(text, "private");
    if (blob === "encrypted") {
      fail(
        "is protected by a passphrase; remote commands cannot type it: use a key without one, kept only as a Pulumi secret",
      );
    } else if (blob === "public") {
      fail("holds a public key; set the private key (the file without .pub)");
    } else if (typeof blob === "string") {
      fail("must be a private key in OpenSSH or PEM format (-----BEGIN OPENSSH PRIVATE KEY----- …)");
    }
    return text;
  }),
  "hcloud:token": rule((text, fail) => {
    if (!/^[A-Za-z0-9]{64}$/.test(text))
      fail("must be a 64-character Hetzner Cloud API token (letters and digits)");
    return text;
  }),
} as const;
