/**
 * The SSH keys root accepts on a GA node, managed by the config command rather than by the
 * server's creation-time `sshKeys` (which the program never changes: a change would replace the
 * server). Rotating `sshPublicKey` is then a rewrite of this file, node by node, with the key the
 * commands log in with authorized throughout (clusterShape.ts explains the two runs).
 */
import { shellQuote } from "./nodeScript";

export const ROOT_AUTHORIZED_KEYS = "/root/.ssh/authorized_keys";

/** An idempotent shell snippet that replaces `file` with exactly `keys`, atomically. */
export function renderAuthorizedKeys(keys: readonly string[], file = ROOT_AUTHORIZED_KEYS): string {
  const lines = keys.map((k) => k.trim()).filter((k) => k !== "");
  if (lines.length === 0 || lines.some((k) => k.includes("\n"))) {
    throw new Error("renderAuthorizedKeys: at least one single-line public key is required");
  }
  const q = shellQuote(file);
  return [
    "# akira-nats: the keys root accepts (sshPublicKey, and sshNextPublicKey while a rotation runs).",
    `install -d -m 0700 "$(dirname ${q})"`,
    `akira_keys_tmp=$(mktemp ${q}.XXXXXX)`,
    `printf '%s\\n' ${lines.map(shellQuote).join(" ")} >"$akira_keys_tmp"`,
    `chmod 0600 "$akira_keys_tmp" && mv -f "$akira_keys_tmp" ${q}`,
    "",
  ].join("\n");
}
