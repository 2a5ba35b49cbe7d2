/**
 * The remote command that configures one NATS host: GA nodes and the staging pilot alike.
 *
 * Its text is the node script (components/cluster/nodeScript.ts) behind a short host-preparation preamble;
 * it holds no secret and is stored in state in plaintext. secrets.conf travels as `stdin`, a Pulumi
 * secret. Choices, checked against pulumi-command 1.x (provider/pkg/provider/remote):
 * - A change of `create` (a new config or version) is an in-place update that runs `create` again
 *   (no `update` command is set): a roll of this node, never a replacement of anything.
 * - No `triggers`: a change of triggers replaces the resource.
 * - `logging: none`: the command's stdin is a secret, so its output is not streamed to the Pulumi
 *   log; stdout/stderr are also kept as secret outputs. (On failure pulumi-command still puts the
 *   command text and its output in the error: the script never prints a secret and redacts
 *   nats-server's error output.)
 * - `addPreviousOutputInEnv: false`: nothing of a previous run is carried into the next.
 * - `dialErrorLimit`: a new server's sshd needs a while after the server is created; the default of
 *   10 quick retries can run out before it answers.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderAuthorizedKeys } from "./authorizedKeys";
import { renderCloudInitWait, renderHostPrepareScript } from "./cloudInit";
import { type NodeScriptInput, renderNodeScript, shellQuote } from "./nodeScript";

/** Dial attempts before the command gives up on a host's sshd (retried with back-off, ~5 s max apart). */
export const DEFAULT_DIAL_ERROR_LIMIT = 60;

/** How the host is prepared before the node script runs. */
export type HostPreparation =
  /** A GA node: cloud-init already did it; wait until it has finished. */
  | "wait-for-cloud-init"
  /** An existing host (the pilot): create user, directories and unit idempotently. */
  | "prepare-host";

/**
 * The exact command text for a host. Pure; tests compare against it. With `sudo` (an SSH user
 * other than root), the whole text runs as root through `sudo -n bash -c`, which passes stdin (the
 * secrets) through; the user needs password-less sudo.
 */
export function renderNodeCommand(
  preparation: HostPreparation,
  script: NodeScriptInput,
  opts: { readonly sudo?: boolean; readonly authorizedKeys?: readonly string[] } = {},
): string {
  const preamble = preparation === "prepare-host" ? renderHostPrepareScript() : renderCloudInitWait();
  const keys = opts.authorizedKeys === undefined ? "" : renderAuthorizedKeys(opts.authorizedKeys);
  const text = `${preamble}${keys}${renderNodeScript(script)}`;
  if (opts.sudo !== true) return text;
  return [
    "# akira-nats: the SSH user is not root here; the node script runs as root through sudo.",
    `sudo -n -- bash -c ${shellQuote(text)}`,
    "",
  ].join("\n");
}

export interface NodeConfigCommandArgs {
  /** SSH address of the host (a GA node's public IPv4, the pilot's `pilotHost`). */
  readonly host: pulumi.Input<string>;
  /** SSH user; the node script needs root. Default `root`. */
  readonly user?: pulumi.Input<string>;
  /** SSH private key (a secret). */
  readonly privateKey: pulumi.Input<string>;
  /**
   * The host's public key (`ssh-ed25519 AAAA…`): pulumi-command refuses a host that offers another
   * (`connection.hostKey`; without it, it would accept any), before stdin's secrets are sent.
   */
  readonly hostKey: pulumi.Input<string>;
  /** The command text, from {@link renderNodeCommand}. Must hold no secret. */
  readonly commandText: pulumi.Input<string>;
  /** secrets.conf (`renderNatsSecrets(...)`), sent on stdin; wrapped as a secret here as well. */
  readonly secretsConf: pulumi.Input<string>;
  /** SSH dial attempts. Default {@link DEFAULT_DIAL_ERROR_LIMIT}. */
  readonly dialErrorLimit?: pulumi.Input<number>;
}

/** One `command:remote:Command` that installs, configures and (re)starts nats-server on a host. */
export function nodeConfigCommand(
  name: string,
  args: NodeConfigCommandArgs,
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  return new command.remote.Command(
    name,
    {
      connection: {
        host: args.host,
        user: args.user ?? "root",
        privateKey: pulumi.secret(args.privateKey),
        hostKey: args.hostKey,
        dialErrorLimit: args.dialErrorLimit ?? DEFAULT_DIAL_ERROR_LIMIT,
      },
      create: args.commandText,
      stdin: pulumi.secret(args.secretsConf),
      logging: "none",
      addPreviousOutputInEnv: false,
    },
    { ...opts, additionalSecretOutputs: ["stdin", "stdout", "stderr"] },
  );
}
