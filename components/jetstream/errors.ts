/**
 * JetStream and connection failures as typed errors. Callers branch on the class or `code`,
 * never on message text. Every message says what failed, why, and what to do next.
 */

/** JetStream API error codes we act on (nats-server `server/errors.json`). */
export const JsErrCode = {
  NoSuitablePeers: 10005,
  InsufficientResources: 10023,
  StreamNameExists: 10058,
  StreamNotFound: 10059,
  ReplicasNotSupported: 10074,
  StreamMoveAndScale: 10123,
} as const;

export class AkiraNatsError extends Error {
  /** A stable machine-readable code, e.g. `stream-not-found`, `js-10005`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** No server answered. Names every URL tried. */
/** TLS with the servers failed: an untrusted certificate, or no TLS where it is required. */
export class TlsError extends AkiraNatsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("tls", message, options);
  }
}

export class UnreachableError extends AkiraNatsError {
  constructor(
    readonly servers: readonly string[],
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      "unreachable",
      `cannot reach NATS at ${servers.join(", ")} (${detail}): check that the servers run and that the address, port and firewall are right (for GA from outside the private network, use the admin tunnel)`,
      options,
    );
  }
}

/** The server refused the user or password. Never includes the password. */
export class AuthorizationError extends AkiraNatsError {
  constructor(
    readonly servers: readonly string[],
    readonly user: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      "authorization",
      `NATS at ${servers.join(", ")} refused user "${user ?? "(none)"}": check --user/--password (or NATS_USER/NATS_PASSWORD; for the stacks: pulumi config set --secret akira-nats:clientPassword …)`,
      options,
    );
  }
}

export class StreamNotFoundError extends AkiraNatsError {
  constructor(
    readonly stream: string,
    hint = "check the name with `akira-nats stream ls`, or restore it from a backup with `akira-nats stream restore <dir>`",
  ) {
    super("stream-not-found", `stream ${stream} not found: ${hint}`);
  }
}

/** A JetStream API error response, mapped by code to an explanation. */
export class JetStreamApiError extends AkiraNatsError {
  constructor(
    readonly errCode: number,
    readonly description: string,
    message: string,
  ) {
    super(`js-${errCode}`, message);
  }
}

export interface ApiErrorContext {
  readonly stream?: string;
  readonly replicas?: number;
  /** Peers known to the meta group that are offline or missing, for error 10005. */
  readonly unavailablePeers?: readonly string[];
  /** The server that answered, for error 10074 (names the single-node pilot). */
  readonly server?: string;
}

/** Maps a JetStream API error (`{ code, err_code, description }`) to a typed error with advice. */
export function fromApiError(
  api: { err_code?: number; code?: number; description?: string },
  ctx: ApiErrorContext = {},
): AkiraNatsError {
  const errCode = api.err_code ?? 0;
  const desc = api.description ?? "unknown error";
  const stream = ctx.stream ?? "the stream";
  switch (errCode) {
    case JsErrCode.StreamNotFound:
      return new StreamNotFoundError(ctx.stream ?? "(unknown)");
    case JsErrCode.NoSuitablePeers: {
      const missing =
        ctx.unavailablePeers && ctx.unavailablePeers.length > 0
          ? ` (offline or missing: ${ctx.unavailablePeers.join(", ")})`
          : "";
      return new JetStreamApiError(
        errCode,
        desc,
        `no suitable peers to place ${ctx.replicas ?? "the requested"} replicas of ${stream}${missing}: bring every node back (akira-nats server list --expect N) and retry; nothing was changed (${desc}, 10005)`,
      );
    }
    case JsErrCode.InsufficientResources:
      return new JetStreamApiError(
        errCode,
        desc,
        `insufficient JetStream resources for ${stream}: a server's max_file_store or disk is too small for the stream's limits; free space or raise the limit, then retry (${desc}, 10023)`,
      );
    case JsErrCode.ReplicasNotSupported:
      return new JetStreamApiError(
        errCode,
        desc,
        `replicas > 1 are not supported on a non-clustered server: ${stream} lives on a single-node server (${ctx.server === undefined ? "the pilot" : `${ctx.server}, the pilot`}); set streamReplicas to 1 for this stack (${desc}, 10074)`,
      );
    case JsErrCode.StreamMoveAndScale:
      return new JetStreamApiError(
        errCode,
        desc,
        `${stream} cannot change placement and replicas in one update: change the replicas first, then the placement, in two updates (${desc}, 10123)`,
      );
    case JsErrCode.StreamNameExists:
      return new JetStreamApiError(
        errCode,
        desc,
        `${stream} already exists with a different configuration: nothing was changed (${desc}, 10058)`,
      );
    default:
      return new JetStreamApiError(
        errCode,
        desc,
        `JetStream refused the request for ${stream}: ${desc} (${errCode})`,
      );
  }
}
