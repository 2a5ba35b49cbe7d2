import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { utils } from "ssh2";
import { parseStackConfig } from "../../components/config/config";
import { PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";
import { GENERATE, gaRaw, KEY_PAIR, OTHER_KEY_PAIR, PASSWORDS, type Raw, stagingRaw } from "./configFixtures";

type Expected = readonly [key: string, rule: string, fix: string];

interface Row {
  readonly name: string;
  readonly raw: Raw;
  readonly issues: readonly Expected[];
}

const set = (key: string, value: string) => `pulumi config set akira-nats:${key} ${value}`;
const setEntry = (key: string, index: number, value: string) =>
  `pulumi config set --path 'akira-nats:${key}[${index}]' ${value}`;
const secret = (key: string) => `pulumi config set --secret akira-nats:${key} ${GENERATE}`;
const ADMIN = "<admin CIDR, e.g. your office /32>";
const CLIENT = "<application CIDR>";
const PUBLIC_FIX = set("sshPublicKey", `"$(cat ~/.ssh/akira_nats_ed25519.pub)"`);
const PRIVATE_FIX = "pulumi config set --secret akira-nats:sshPrivateKey < ~/.ssh/akira_nats_ed25519";
const ENCRYPTED = utils.generateKeyPairSync("ed25519", {
  passphrase: "unlock-me",
  cipher: "aes256-ctr",
  rounds: 4,
});

function runTable(rows: readonly Row[]) {
  for (const row of rows) {
    it(row.name, () => {
      const result = parseStackConfig(row.raw);
      const got = result.ok ? [] : result.issues.map((i) => [i.key, i.rule, i.fix]);
      assert.deepEqual(got, row.issues);
    });
  }
}

describe("config rules - placeholders (runbook step 3)", () => {
  runTable([
    {
      name: "CHANGEME",
      raw: gaRaw({ natsSha256: "CHANGEME" }),
      issues: [
        [
          "natsSha256",
          'still holds a placeholder: "CHANGEME"; replace it with the real value',
          set("natsSha256", "<64 hex digits from SHA256SUMS>"),
        ],
      ],
    },
    {
      name: "TODO as a word, case-insensitive",
      raw: gaRaw({ clusterName: "todo" }),
      issues: [
        [
          "clusterName",
          'still holds a placeholder: "todo"; replace it with the real value',
          set("clusterName", "akira-ga"),
        ],
      ],
    },
    {
      name: "REPLACE_ME inside a value",
      raw: gaRaw({ image: "REPLACE_ME-24.04" }),
      issues: [
        [
          "image",
          'still holds a placeholder: "REPLACE_ME"; replace it with the real value',
          set("image", "ubuntu-24.04"),
        ],
      ],
    },
    {
      name: "xxx",
      raw: gaRaw({ streamName: "xxx" }),
      issues: [
        [
          "streamName",
          'still holds a placeholder: "xxx"; replace it with the real value',
          set("streamName", "AKIRA_CDR"),
        ],
      ],
    },
    {
      name: "<…> in a list entry names the entry",
      raw: gaRaw({ clientCidrs: '["10.10.0.0/16","<application network CIDR>"]' }),
      issues: [
        [
          "clientCidrs",
          'still holds a placeholder in entry 1: "<application network CIDR>"; replace it with the real value',
          setEntry("clientCidrs", 1, CLIENT),
        ],
      ],
    },
    {
      name: "documentation IPv4 address (RFC 5737)",
      raw: gaRaw({ pilotHost: "198.51.100.23" }),
      issues: [
        [
          "pilotHost",
          "still holds a placeholder: an address in the documentation range 198.51.100.0/24; replace it with the real value",
          set("pilotHost", "<pilot host address>"),
        ],
      ],
    },
    {
      name: "documentation IPv6 range (RFC 3849) in a CIDR list",
      raw: gaRaw({ adminCidrs: '["2001:db8:10::/48"]' }),
      issues: [
        [
          "adminCidrs",
          "still holds a placeholder in entry 0: an address in the documentation range 2001:db8::/32; replace it with the real value",
          setEntry("adminCidrs", 0, ADMIN),
        ],
      ],
    },
    {
      name: "documentation domain (RFC 2606)",
      raw: gaRaw({ pilotHost: "nats.example.com" }),
      issues: [
        [
          "pilotHost",
          "still holds a placeholder: a name in the documentation domain example.com; replace it with the real value",
          set("pilotHost", "<pilot host address>"),
        ],
      ],
    },
    {
      name: "a secret placeholder is named without its value",
      raw: gaRaw({ clientPassword: "REPLACE_ME-with-a-real-one" }),
      issues: [
        ["clientPassword", "still holds a placeholder; set the real secret", secret("clientPassword")],
      ],
    },
    {
      name: "the public key placeholder of the ga stack file",
      raw: gaRaw({ sshPublicKey: "<contents of ~/.ssh/akira_nats_ed25519.pub>" }),
      issues: [
        [
          "sshPublicKey",
          'still holds a placeholder: "<contents of ~/.ssh/akira_nats_ed25519.pub>"; replace it with the real value',
          PUBLIC_FIX,
        ],
      ],
    },
  ]);
});

describe("config rules - one key each", () => {
  runTable([
    {
      name: "mode",
      raw: gaRaw({ mode: "multi" }),
      issues: [["mode", 'must be "single" (staging) or "cluster" (ga), not "multi"', set("mode", "cluster")]],
    },
    {
      name: "natsVersion x.y.z",
      raw: gaRaw({ natsVersion: "v2.10.22" }),
      issues: [
        [
          "natsVersion",
          'must be a nats-server release version x.y.z without a leading "v", not "v2.10.22"',
          set("natsVersion", PINNED_NATS_VERSION),
        ],
      ],
    },
    {
      name: "natsSha256 64 hex",
      raw: gaRaw({ natsSha256: "abc123" }),
      issues: [
        [
          "natsSha256",
          `must be 64 hexadecimal digits, the SHA-256 of nats-server-v<natsVersion>-linux-amd64.tar.gz from the release's SHA256SUMS, not "abc123"`,
          set("natsSha256", "<64 hex digits from SHA256SUMS>"),
        ],
      ],
    },
    {
      name: "pilotHost address or host name",
      raw: gaRaw({ pilotHost: "pilot host" }),
      issues: [
        [
          "pilotHost",
          'must be an IP address or a DNS host name, not "pilot host"',
          set("pilotHost", "<pilot host address>"),
        ],
      ],
    },
    {
      name: "pilotName label",
      raw: gaRaw({ pilotName: "Akira_Cache" }),
      issues: [
        [
          "pilotName",
          'must be a host name label (lowercase letters, digits and "-", at most 63), not "Akira_Cache"',
          set("pilotName", "akira-cache-01-staging"),
        ],
      ],
    },
    {
      name: "pilotSshUser",
      raw: gaRaw({ pilotSshUser: "Root!" }),
      issues: [
        [
          "pilotSshUser",
          'must be a Unix user name (lowercase letters, digits, "_", "-"), not "Root!"',
          set("pilotSshUser", "root"),
        ],
      ],
    },
    {
      name: "pilotMaxFileStoreGb",
      raw: gaRaw({ pilotMaxFileStoreGb: "0" }),
      issues: [
        [
          "pilotMaxFileStoreGb",
          'must be a whole number from 1 to 100000, not "0"',
          set("pilotMaxFileStoreGb", "10"),
        ],
      ],
    },
    {
      name: "clusterName label",
      raw: gaRaw({ clusterName: "akira ga" }),
      issues: [
        [
          "clusterName",
          'must be a host name label (lowercase letters, digits and "-", at most 63), not "akira ga"',
          set("clusterName", "akira-ga"),
        ],
      ],
    },
    {
      name: "nodeCount a whole number within the placement group",
      raw: gaRaw({ nodeCount: "11" }),
      issues: [
        [
          "nodeCount",
          'must be a whole number from 1 to 9 (a Hetzner spread placement group holds at most 10 servers), not "11"',
          set("nodeCount", "3"),
        ],
      ],
    },
    {
      name: "serverType one of Hetzner's",
      raw: gaRaw({ serverType: "cx22" }),
      issues: [
        [
          "serverType",
          'must be one of Hetzner\'s server types (cx23, cx33, cx43, cx53, cpx22, cpx32, cpx42, cpx52, cpx62, cax11, cax21, cax31, cax41, ccx13, ccx23, ccx33, ccx43, ccx53, ccx63), not "cx22"',
          set("serverType", "cx23"),
        ],
      ],
    },
    {
      name: "location one of Hetzner's",
      raw: gaRaw({ location: "fra1" }),
      issues: [
        [
          "location",
          'must be one of Hetzner\'s locations (fsn1, nbg1, hel1, ash, hil, sin), not "fra1"',
          set("location", "fsn1"),
        ],
      ],
    },
    {
      name: "image Ubuntu or Debian",
      raw: gaRaw({ image: "centos-stream-9" }),
      issues: [
        [
          "image",
          'must be an Ubuntu or Debian system image such as ubuntu-24.04 (cloud-init and the node script expect apt and systemd), not "centos-stream-9"',
          set("image", "ubuntu-24.04"),
        ],
      ],
    },
    {
      name: "privateNetworkCidr RFC 1918",
      raw: gaRaw({ privateNetworkCidr: "100.64.0.0/16" }),
      issues: [
        [
          "privateNetworkCidr",
          'must lie inside an RFC 1918 range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), not "100.64.0.0/16"',
          set("privateNetworkCidr", "10.0.0.0/16"),
        ],
      ],
    },
    {
      name: "privateNetworkCidr big enough for a /24",
      raw: gaRaw({ privateNetworkCidr: "192.168.10.0/25" }),
      issues: [
        [
          "privateNetworkCidr",
          `must be a /24 or larger to hold the nodes' /24 subnet, not "192.168.10.0/25"`,
          set("privateNetworkCidr", "10.0.0.0/16"),
        ],
      ],
    },
    {
      name: "privateNetworkCidr host bits",
      raw: gaRaw({ privateNetworkCidr: "172.16.5.1/16" }),
      issues: [
        [
          "privateNetworkCidr",
          '"172.16.5.1/16" has host bits set; write the network address 172.16.0.0/16',
          set("privateNetworkCidr", "10.0.0.0/16"),
        ],
      ],
    },
    {
      name: "privateNetworkCidr without prefix",
      raw: gaRaw({ privateNetworkCidr: "10.0.0.0" }),
      issues: [
        [
          "privateNetworkCidr",
          '"10.0.0.0" is not a valid CIDR: has no prefix length (write e.g. 198.51.100.7/32 for one address)',
          set("privateNetworkCidr", "10.0.0.0/16"),
        ],
      ],
    },
    {
      name: "adminCidrs - IPv4 prefix out of range",
      raw: gaRaw({ adminCidrs: '["10.0.0.0/33"]' }),
      issues: [
        [
          "adminCidrs",
          'entry 0 "10.0.0.0/33" is not a valid CIDR: the prefix length must be a whole number from 0 to 32',
          setEntry("adminCidrs", 0, ADMIN),
        ],
      ],
    },
    {
      name: "adminCidrs - IPv6 host bits, every bad entry reported",
      raw: gaRaw({ adminCidrs: '["fe80::1/64","100.64.10.0/24","10.1.2.3"]' }),
      issues: [
        [
          "adminCidrs",
          'entry 0 "fe80::1/64" has host bits set; write the network address fe80::/64',
          setEntry("adminCidrs", 0, ADMIN),
        ],
        [
          "adminCidrs",
          'entry 2 "10.1.2.3" is not a valid CIDR: has no prefix length (write e.g. 198.51.100.7/32 for one address)',
          setEntry("adminCidrs", 2, ADMIN),
        ],
      ],
    },
    {
      name: "clientCidrs - not an address",
      raw: gaRaw({ clientCidrs: '["office/24"]' }),
      issues: [
        [
          "clientCidrs",
          'entry 0 "office/24" is not a valid CIDR: "office" is not an IPv4 or IPv6 address',
          setEntry("clientCidrs", 0, CLIENT),
        ],
      ],
    },
    {
      name: "adminCidrs - not a JSON list",
      raw: gaRaw({ adminCidrs: "100.64.10.0/24" }),
      issues: [
        [
          "adminCidrs",
          'must be a list of CIDRs (a JSON array of strings), not "100.64.10.0/24"',
          setEntry("adminCidrs", 0, ADMIN),
        ],
      ],
    },
    {
      name: "adminCidrs - 0.0.0.0/0 refused without acceptAdminFromAnywhere",
      raw: gaRaw({ adminCidrs: '["100.64.10.0/24","0.0.0.0/0"]' }),
      issues: [
        [
          "adminCidrs",
          'entry 1 "0.0.0.0/0" opens SSH to the whole internet: list your admin networks, or set acceptAdminFromAnywhere to true if you mean it',
          setEntry("adminCidrs", 1, ADMIN),
        ],
      ],
    },
    {
      name: "adminCidrs - ::/0 accepted with acceptAdminFromAnywhere",
      raw: gaRaw({ adminCidrs: '["::/0"]', acceptAdminFromAnywhere: "true" }),
      issues: [],
    },
    {
      name: "booleans true or false",
      raw: gaRaw({ acceptAdminFromAnywhere: "yes" }),
      issues: [
        [
          "acceptAdminFromAnywhere",
          'must be true or false, not "yes"',
          set("acceptAdminFromAnywhere", "true"),
        ],
      ],
    },
    {
      name: "streamName",
      raw: gaRaw({ streamName: "AKIRA.CDR" }),
      issues: [
        [
          "streamName",
          'must be 1 to 32 letters, digits, "_" or "-" (JetStream stream names become directory names), not "AKIRA.CDR"',
          set("streamName", "AKIRA_CDR"),
        ],
      ],
    },
    {
      name: "streamReplicas 1 to 5",
      raw: gaRaw({ streamReplicas: "6" }),
      issues: [
        [
          "streamReplicas",
          `must be a whole number from 1 to 5 (JetStream's limit), not "6"`,
          set("streamReplicas", "3"),
        ],
      ],
    },
    {
      name: "streamSubjects - each subject checked",
      raw: gaRaw({ streamSubjects: '["akira..cdr","akira.>.x","akira.c*","akira cdr","akira.cdr.>"]' }),
      issues: [
        [
          "streamSubjects",
          'entry 0 "akira..cdr" has an empty token (".." or a leading or trailing ".")',
          setEntry("streamSubjects", 0, "'akira.cdr.>'"),
        ],
        [
          "streamSubjects",
          'entry 1 "akira.>.x" uses ">" before the last token',
          setEntry("streamSubjects", 1, "'akira.cdr.>'"),
        ],
        [
          "streamSubjects",
          'entry 2 "akira.c*" uses "*" or ">" inside a token',
          setEntry("streamSubjects", 2, "'akira.cdr.>'"),
        ],
        [
          "streamSubjects",
          'entry 3 "akira cdr" contains whitespace or control characters',
          setEntry("streamSubjects", 3, "'akira.cdr.>'"),
        ],
      ],
    },
    {
      name: "streamSubjects - not empty",
      raw: gaRaw({ streamSubjects: "[]" }),
      issues: [
        ["streamSubjects", "must name at least one subject", setEntry("streamSubjects", 0, "'akira.cdr.>'")],
      ],
    },
    {
      name: "sshPublicKey - not a key",
      raw: gaRaw({ sshPublicKey: "ssh-ed25519 not-base64!" }),
      issues: [
        [
          "sshPublicKey",
          'must be an OpenSSH public key line such as "ssh-ed25519 AAAA… comment" (the .pub file)',
          PUBLIC_FIX,
        ],
      ],
    },
    {
      name: "sshPublicKey - a private key pasted by mistake is refused without being echoed",
      raw: gaRaw({ sshPublicKey: OTHER_KEY_PAIR.private }),
      issues: [
        [
          "sshPublicKey",
          "holds a PRIVATE key: set it as sshPrivateKey with --secret instead, and replace the key pair since it was stored in plaintext",
          PUBLIC_FIX,
        ],
      ],
    },
    {
      name: "sshPrivateKey - not a key",
      raw: gaRaw({
        sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nbroken\n-----END OPENSSH PRIVATE KEY-----\n",
      }),
      issues: [
        [
          "sshPrivateKey",
          "must be a private key in OpenSSH or PEM format (-----BEGIN OPENSSH PRIVATE KEY----- …)",
          PRIVATE_FIX,
        ],
      ],
    },
    {
      name: "sshPrivateKey - a public key",
      raw: gaRaw({ sshPrivateKey: KEY_PAIR.public }),
      issues: [
        ["sshPrivateKey", "holds a public key; set the private key (the file without .pub)", PRIVATE_FIX],
      ],
    },
    {
      name: "sshPrivateKey - passphrase-protected",
      raw: gaRaw({ sshPrivateKey: ENCRYPTED.private }),
      issues: [
        [
          "sshPrivateKey",
          "is protected by a passphrase; remote commands cannot type it: use a key without one, kept only as a Pulumi secret",
          PRIVATE_FIX,
        ],
      ],
    },
    {
      name: "hcloud:token - 64 characters",
      raw: gaRaw({ "hcloud:token": "tooShortToken123" }),
      issues: [
        [
          "hcloud:token",
          "must be a 64-character Hetzner Cloud API token (letters and digits)",
          "pulumi config set --secret hcloud:token <64-character API token from the Hetzner Cloud Console>",
        ],
      ],
    },
  ]);
});

describe("config rules - passwords (runbook step 4)", () => {
  runTable([
    {
      name: "length and character classes",
      raw: gaRaw({ systemPassword: "abcdefghij" }),
      issues: [
        ["systemPassword", "must be at least 16 characters long", secret("systemPassword")],
        [
          "systemPassword",
          "must mix at least two kinds of characters (lowercase, uppercase, digits, symbols)",
          secret("systemPassword"),
        ],
      ],
    },
    {
      name: "whitespace, quotes, backslashes break nats-server config quoting",
      raw: gaRaw({ clientPassword: 'Quoted "pass" Word\\99' }),
      issues: [
        [
          "clientPassword",
          "must not contain whitespace, double quotes, backslashes or control characters (they break nats-server config quoting)",
          secret("clientPassword"),
        ],
      ],
    },
    {
      name: "URL delimiters break nats:// URLs",
      raw: gaRaw({ clusterPassword: "Route@host:4222/Path1" }),
      issues: [
        [
          "clusterPassword",
          "must not contain @ : / ? # % (they break nats:// URLs such as nats://akira:<password>@host:4222)",
          secret("clusterPassword"),
        ],
      ],
    },
    {
      name: "a $ reads as a bcrypt hash or a variable",
      raw: gaRaw({
        clientPassword: "$2a$10$abcdefghijKLMNOPqrst",
        systemPassword: "Plain-$SYSTEM-secret-value",
      }),
      issues: [
        [
          "clientPassword",
          'must not contain "$" (nats-server reads a password like $2a$10$… as a bcrypt hash, and newer versions may expand $-variables in it)',
          secret("clientPassword"),
        ],
        [
          "systemPassword",
          'must not contain "$" (nats-server reads a password like $2a$10$… as a bcrypt hash, and newer versions may expand $-variables in it)',
          secret("systemPassword"),
        ],
      ],
    },
    {
      name: "plain ASCII",
      raw: gaRaw({ systemPassword: "Pässwörter-Sind-Lang-1" }),
      issues: [["systemPassword", "must be plain ASCII", secret("systemPassword")]],
    },
    {
      name: "the three passwords differ",
      raw: gaRaw({ systemPassword: PASSWORDS.clientPassword, clusterPassword: PASSWORDS.clientPassword }),
      issues: [
        [
          "clusterPassword",
          "must differ from clientPassword: each user needs its own secret",
          secret("clusterPassword"),
        ],
        [
          "systemPassword",
          "must differ from clientPassword: each user needs its own secret",
          secret("systemPassword"),
        ],
      ],
    },
    {
      name: "staging ignores the cluster password (Pulumi still requires the key) and the Hetzner token",
      raw: stagingRaw({ clusterPassword: "CHANGEME", "hcloud:token": "x" }),
      issues: [],
    },
    {
      name: "staging still requires and checks the client and system passwords",
      raw: stagingRaw({ clientPassword: undefined, systemPassword: "short" }),
      issues: [
        ["clientPassword", "is not set", secret("clientPassword")],
        ["systemPassword", "must be at least 16 characters long", secret("systemPassword")],
        [
          "systemPassword",
          "must mix at least two kinds of characters (lowercase, uppercase, digits, symbols)",
          secret("systemPassword"),
        ],
      ],
    },
  ]);
});

describe("config rules - between keys and modes", () => {
  runTable([
    {
      name: "single mode - one node, one replica",
      raw: stagingRaw({ nodeCount: "3", streamReplicas: "3" }),
      issues: [
        ["nodeCount", "must be 1 in single mode (the pilot is one server), not 3", set("nodeCount", "1")],
        [
          "streamReplicas",
          "must be 1 in single mode (one server holds one replica), not 3",
          set("streamReplicas", "1"),
        ],
      ],
    },
    {
      name: "cluster mode - odd node count",
      raw: gaRaw({ nodeCount: "2", streamReplicas: "1" }),
      issues: [
        [
          "nodeCount",
          "must be odd and from 3 to 9 in cluster mode, so the JetStream meta group keeps a majority with a node down, not 2",
          set("nodeCount", "3"),
        ],
      ],
    },
    {
      name: "cluster mode - at least three nodes",
      raw: gaRaw({ nodeCount: "1", streamReplicas: "1" }),
      issues: [
        [
          "nodeCount",
          "must be odd and from 3 to 9 in cluster mode, so the JetStream meta group keeps a majority with a node down, not 1",
          set("nodeCount", "3"),
        ],
      ],
    },
    {
      name: "cluster mode - five nodes, five replicas is fine",
      raw: gaRaw({ nodeCount: "5", streamReplicas: "5" }),
      issues: [],
    },
    {
      name: "replicas never more than the node count",
      raw: gaRaw({ streamReplicas: "5" }),
      issues: [
        [
          "streamReplicas",
          "must be at most nodeCount (3): JetStream cannot place 5 replicas on 3 servers (error 10005), not 5",
          set("streamReplicas", "3"),
        ],
      ],
    },
    {
      name: "ARM types cannot run the pinned linux-amd64 release",
      raw: gaRaw({ serverType: "cax11" }),
      issues: [
        [
          "serverType",
          '"cax11" is an ARM64 type, but natsSha256 pins the linux-amd64 release: choose an x86 type such as cx23',
          set("serverType", "cx23"),
        ],
      ],
    },
    {
      name: "the server type must be sold in the location",
      raw: gaRaw({ location: "ash" }),
      issues: [
        [
          "location",
          '"ash" does not sell serverType cx23 (only fsn1, nbg1, hel1 do): choose one of those, or another server type',
          set("location", "fsn1"),
        ],
      ],
    },
    {
      name: "cluster mode - the firewall needs admin and client CIDRs",
      raw: gaRaw({ adminCidrs: "[]", clientCidrs: undefined }),
      issues: [
        [
          "adminCidrs",
          "must list at least one CIDR in cluster mode: nothing could reach SSH on the nodes",
          setEntry("adminCidrs", 0, ADMIN),
        ],
        [
          "clientCidrs",
          "must list at least one CIDR in cluster mode: no application could reach port 4222",
          setEntry("clientCidrs", 0, CLIENT),
        ],
      ],
    },
    {
      name: "cluster mode - the public key is the private key's other half",
      raw: gaRaw({ sshPublicKey: OTHER_KEY_PAIR.public }),
      issues: [
        [
          "sshPublicKey",
          "is not the public half of sshPrivateKey: the nodes would refuse the remote commands' login",
          PUBLIC_FIX,
        ],
      ],
    },
    {
      name: "absorbPilot refused without acceptPilotAbsorbRisk, with the reason",
      raw: gaRaw({ absorbPilot: "true" }),
      issues: [
        [
          "absorbPilot",
          'is true but acceptPilotAbsorbRisk is not. A standalone JetStream server restarted with a cluster block does not adopt its streams: the meta layer deletes them as orphans ("Detected orphaned stream …, will cleanup"), so AKIRA_CDR on the pilot would be lost and can only come back from a backup, which the cutover takes first. Set acceptPilotAbsorbRisk to true to accept that, or absorbPilot to false to keep the pilot apart',
          set("acceptPilotAbsorbRisk", "true"),
        ],
      ],
    },
    {
      name: "absorbPilot with the risk accepted",
      raw: gaRaw({ absorbPilot: "true", acceptPilotAbsorbRisk: "true" }),
      issues: [],
    },
    {
      name: "absorbPilot means nothing in single mode",
      raw: stagingRaw({ absorbPilot: "true", acceptPilotAbsorbRisk: "true" }),
      issues: [
        [
          "absorbPilot",
          "applies to mode cluster only: the staging pilot cannot absorb itself",
          set("absorbPilot", "false"),
        ],
      ],
    },
  ]);
});

describe("config rules - optional stream settings", () => {
  it("set values reach streamSettings typed; unset ones stay absent", () => {
    const result = parseStackConfig(
      gaRaw({
        streamStorage: "file",
        streamRetention: "limits",
        streamDiscard: "old",
        streamMaxAgeSeconds: "34560000",
        streamMaxBytes: "-1",
        streamDuplicateWindowSeconds: " 120 ",
      }),
    );
    assert.ok(result.ok);
    assert.deepEqual(result.config.streamSettings, {
      storage: "file",
      retention: "limits",
      discard: "old",
      maxAgeSeconds: 34560000,
      maxBytes: -1,
      duplicateWindowSeconds: 120,
    });
  });

  runTable([
    {
      name: "streamStorage - memory refused with the reason",
      raw: gaRaw({ streamStorage: "memory" }),
      issues: [
        [
          "streamStorage",
          'must be "file": a memory stream loses every CDR when its server restarts, and JetStream cannot back it up (the cutover starts with a backup)',
          set("streamStorage", "file"),
        ],
      ],
    },
    {
      name: "streamRetention and streamDiscard - their words only",
      raw: gaRaw({ streamRetention: "forever", streamDiscard: "oldest" }),
      issues: [
        [
          "streamRetention",
          'must be one of limits, interest, workqueue, not "forever"',
          set("streamRetention", "limits"),
        ],
        ["streamDiscard", 'must be one of old, new, not "oldest"', set("streamDiscard", "old")],
      ],
    },
    {
      name: "streamMaxAgeSeconds, streamMaxBytes, streamMaxMsgs - whole numbers in range; 0 bytes is not unlimited",
      raw: gaRaw({ streamMaxAgeSeconds: "30d", streamMaxBytes: "0", streamMaxMsgs: "-5" }),
      issues: [
        [
          "streamMaxAgeSeconds",
          'must be a whole number from 0 to 9223372036 (0 = unlimited), not "30d"',
          set("streamMaxAgeSeconds", "34560000"),
        ],
        [
          "streamMaxBytes",
          'must be -1 (unlimited) or a positive whole number, not "0"',
          set("streamMaxBytes", "-1"),
        ],
        [
          "streamMaxMsgs",
          'must be -1 (unlimited) or a positive whole number, not "-5"',
          set("streamMaxMsgs", "-1"),
        ],
      ],
    },
    {
      name: "streamDuplicateWindowSeconds - at least 1, and not longer than the messages live",
      raw: gaRaw({ streamMaxAgeSeconds: "60", streamDuplicateWindowSeconds: "120" }),
      issues: [
        [
          "streamDuplicateWindowSeconds",
          "must not exceed streamMaxAgeSeconds (60): JetStream refuses a deduplication window longer than the messages live, not 120",
          set("streamDuplicateWindowSeconds", "60"),
        ],
      ],
    },
    {
      name: "streamDuplicateWindowSeconds - 0 refused (the server would make it 120)",
      raw: gaRaw({ streamDuplicateWindowSeconds: "0" }),
      issues: [
        [
          "streamDuplicateWindowSeconds",
          'must be a whole number from 1 to 9223372036, not "0"',
          set("streamDuplicateWindowSeconds", "120"),
        ],
      ],
    },
  ]);
});
