/**
 * `npm run lint` part: the node script, in every form the program renders it (a GA node with
 * client TLS and root's keys, the pilot prepared in place and run through sudo), checked with
 * shellcheck (Debian's package; `bin/setup --with-sshd` installs it, as CI does).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519KeyPair } from "../../components/cluster/ed25519KeyPair";
import { renderNodeCommand } from "../../components/cluster/nodeConfigCommand";
import { renderClusterNodeConf, renderPilotConf } from "../../components/cluster/nodePlan";
import { tlsDirFor } from "../../components/cluster/nodeScript";
import { PINNED_NATS_VERSION } from "../../components/jetstream/serverLines";
import { issueAuthority, issueNodeCertificate } from "../../components/tls/certificates";

function variants(): Record<string, string> {
  const authority = issueAuthority("shellcheck", 2);
  const cert = issueNodeCertificate({
    authority,
    commonName: "akira-ga-1",
    ips: ["10.0.0.11"],
    validityDays: 2,
  });
  const nodes = [{ name: "akira-ga-1", privateIp: "10.0.0.11" }];
  const common = { natsVersion: PINNED_NATS_VERSION, natsSha256: "0".repeat(64) };
  return {
    "ga-node-with-tls": renderNodeCommand(
      "wait-for-cloud-init",
      {
        ...common,
        confText: renderClusterNodeConf({ clusterName: "akira-ga", nodes, maxFileStoreBytes: 1e9 }, 0),
        monitorUrl: "http://10.0.0.11:8222",
        tls: { dir: tlsDirFor("/etc/nats", cert.certificate), certificate: cert.certificate },
      },
      { authorizedKeys: [ed25519KeyPair("shellcheck").public] },
    ),
    "pilot-through-sudo": renderNodeCommand(
      "prepare-host",
      {
        ...common,
        confText: renderPilotConf({ serverName: "akira-cache-01-staging", maxFileStoreBytes: 1e9 }),
        monitorUrl: "http://127.0.0.1:8222",
      },
      { sudo: true },
    ),
  };
}

function main(): number {
  if (spawnSync("shellcheck", ["--version"]).error !== undefined) {
    process.stderr.write(
      "shellcheck is not installed: run bin/setup --with-sshd (or apt-get install shellcheck)\n",
    );
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), "akira-shellcheck-"));
  let failed = 0;
  try {
    for (const [name, text] of Object.entries(variants())) {
      const file = join(dir, `${name}.sh`);
      writeFileSync(file, `#!/usr/bin/env bash\n${text}`);
      const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", file], { encoding: "utf8" });
      if (r.status !== 0) {
        failed++;
        process.stderr.write(`shellcheck: the node script as rendered for ${name}:\n${r.stdout}${r.stderr}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
