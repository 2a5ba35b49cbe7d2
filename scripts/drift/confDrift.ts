/**
 * nats-server.conf drift. A remote command reads nothing back, so Pulumi never sees a conf edited
 * on a host. The node script records the SHA-256 of the conf it applied next to the file; this
 * check reads both back and compares three things:
 * - the live file with the checksum recorded at apply time: a hand edit on the host, even when
 *   the program has not changed;
 * - the live file with the conf the stack gives the node (its checksum from the stack output
 *   `nodes[].confSha256`, or the rendered text from `--expected-conf-dir`): the host is not what
 *   the stack wrote there, checksum file included;
 * - the presence of both files.
 * The main conf holds no secret (components/cluster/natsConf.ts), so reading it is safe; secrets.conf is
 * never read. Differences are reported by line number only, never by content: a hand edit might
 * have put a password into the file.
 */
import { createHash } from "node:crypto";
import { posix } from "node:path";
import { appliedConfText, CONF_CHECKSUM_FILE, DEFAULT_NODE_PATHS } from "../../components/cluster/nodeScript";
import type { DriftFinding } from "./driftReport";
import type { HostFileReader } from "./hostFiles";

/** Where the node script (components/cluster/nodeScript.ts) keeps the conf and its recorded checksum. */
export const DEFAULT_CONF_PATH = posix.join(DEFAULT_NODE_PATHS.confDir, "nats-server.conf");
/** The checksum file sits next to the conf, named as the node script names it. */
export const checksumPathFor = (confPath: string): string =>
  posix.join(posix.dirname(confPath), CONF_CHECKSUM_FILE);

export interface ConfNode {
  readonly name: string;
  readonly reader: HostFileReader;
  /** The conf the program would write now; absent when not known (then only the checksum is checked). */
  readonly expectedConf?: string;
  /** Its SHA-256, when only the checksum is known (a stack output); ignored when `expectedConf` is set. */
  readonly expectedSha256?: string;
}

export interface ConfPaths {
  /** Default {@link DEFAULT_CONF_PATH}. */
  readonly conf?: string;
  /** Default `nats-server.conf.sha256` next to the conf. */
  readonly checksum?: string;
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The first 64-hex token: accepts a bare checksum and `sha256sum` output (`<hex>  <path>`). */
export function parseChecksum(text: string): string | undefined {
  return /^\s*([0-9a-fA-F]{64})(\s|$)/.exec(text)?.[1]?.toLowerCase();
}

/** Compares one node's files; the reader is left open (the caller owns it). */
export async function checkNodeConf(node: ConfNode, paths: ConfPaths = {}): Promise<DriftFinding[]> {
  const confPath = paths.conf ?? DEFAULT_CONF_PATH;
  const checksumPath = paths.checksum ?? checksumPathFor(confPath);
  const [live, recordedText] = await Promise.all([
    node.reader.read(confPath),
    node.reader.read(checksumPath),
  ]);
  const finding = (field: string, declared: string, liveValue: string): DriftFinding => ({
    check: "conf",
    target: node.name,
    field,
    declared,
    live: liveValue,
  });
  const expected = node.expectedConf === undefined ? undefined : appliedConfText(node.expectedConf);
  const expectedSha = expected === undefined ? node.expectedSha256 : sha256(expected);
  if (live === undefined) {
    return [finding(confPath, expectedSha === undefined ? "present" : `sha256 ${expectedSha}`, "missing")];
  }
  const liveSha = sha256(live);
  const findings: DriftFinding[] = [];
  const recorded = recordedText === undefined ? undefined : parseChecksum(recordedText.toString("utf8"));
  if (recorded === undefined) {
    findings.push(
      finding(
        `${checksumPath} (checksum recorded at apply)`,
        "a sha256",
        recordedText === undefined ? "missing" : "unreadable",
      ),
    );
  } else if (recorded !== liveSha) {
    findings.push(finding(`${confPath} sha256 (edited on the host since the last apply)`, recorded, liveSha));
  }
  if (expectedSha !== undefined && expectedSha !== liveSha) {
    const lines =
      expected === undefined ? "" : `; lines differ: ${differingLines(expected, live.toString("utf8"))}`;
    findings.push(
      finding(`${confPath} sha256 (what the stack gives this node${lines})`, expectedSha, liveSha),
    );
  }
  return findings;
}

/** Line numbers (1-based) where two texts differ, compressed into ranges: `7, 12-14`. */
export function differingLines(a: string, b: string): string {
  const al = a.split("\n");
  const bl = b.split("\n");
  const numbers: number[] = [];
  for (let i = 0; i < Math.max(al.length, bl.length); i++) if (al[i] !== bl[i]) numbers.push(i + 1);
  const ranges: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === (numbers[j] ?? 0) + 1) j++;
    ranges.push(i === j ? `${numbers[i]}` : `${numbers[i]}-${numbers[j]}`);
    i = j + 1;
  }
  return ranges.join(", ") || "none (line endings)";
}
