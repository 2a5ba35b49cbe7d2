/**
 * Quarantine of a restored stream that failed its check. Left as it was, such a stream is live and
 * writable, the applications' subjects land in it, and a health check calls it OK. Quarantined,
 * its subjects move to one nobody publishes to (so publishers get no acknowledgement instead of
 * writing into a stream that does not hold what it should), and its description says why and what
 * was there before; `server check stream` reports it CRITICAL. It is released (subjects back) or
 * removed by the operator: nothing here deletes data. The description is the one place every
 * supported server line keeps (stream metadata came with 2.10).
 */
import type { NatsConnection } from "nats";
import { AkiraNatsError } from "./errors";
import { jsApiRequest, type StreamConfigJson, streamInfoRaw } from "./jsApiRequest";

const MARK = "QUARANTINED by akira-nats: ";
const SUBJECTS_MARK = " | subjects were ";

/** The subject a quarantined stream listens on instead of its own. */
export function quarantineSubject(stream: string): string {
  return `akira-nats.quarantine.${stream}`;
}

export interface Quarantine {
  /** Why the stream was quarantined. */
  readonly reason: string;
  /** Its subjects before. */
  readonly subjects: readonly string[];
}

/** The quarantine recorded in a stream's description, if any. */
export function quarantineOf(config: StreamConfigJson): Quarantine | undefined {
  const d = (config as { description?: string }).description ?? "";
  if (!d.startsWith(MARK)) return undefined;
  const at = d.lastIndexOf(SUBJECTS_MARK);
  const reason = d.slice(MARK.length, at < 0 ? undefined : at);
  let subjects: string[] = [];
  try {
    subjects = at < 0 ? [] : (JSON.parse(d.slice(at + SUBJECTS_MARK.length)) as string[]);
  } catch {
    subjects = [];
  }
  return { reason, subjects };
}

async function updateConfig(
  nc: NatsConnection,
  stream: string,
  change: (c: StreamConfigJson) => StreamConfigJson,
) {
  const info = await streamInfoRaw(nc, stream);
  await jsApiRequest(nc, `$JS.API.STREAM.UPDATE.${stream}`, change(info.config), {
    timeoutMs: 10_000,
    stream,
  });
}

/** Moves `stream` off its subjects and records why. */
export async function quarantineStream(nc: NatsConnection, stream: string, reason: string): Promise<void> {
  await updateConfig(
    nc,
    stream,
    (c) =>
      ({
        ...c,
        subjects: [quarantineSubject(stream)],
        description: `${MARK}${reason}${SUBJECTS_MARK}${JSON.stringify(c.subjects ?? [])}`,
      }) as StreamConfigJson,
  );
}

/** Gives a quarantined stream its subjects back, once the operator has decided it is right. */
export async function releaseStream(nc: NatsConnection, stream: string): Promise<readonly string[]> {
  const info = await streamInfoRaw(nc, stream);
  const q = quarantineOf(info.config);
  if (q === undefined) {
    throw new AkiraNatsError("not-quarantined", `stream ${stream} is not quarantined: nothing to release`);
  }
  await updateConfig(nc, stream, (c) => {
    const { description: _dropped, ...rest } = c as StreamConfigJson & { description?: string };
    return { ...rest, subjects: [...q.subjects] } as StreamConfigJson;
  });
  return q.subjects;
}
