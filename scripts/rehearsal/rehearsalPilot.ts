/**
 * Where the rehearsal starts, as production does before the cutover: the pilot up with the CDR
 * stream on it and the applications' traffic (publisher and durable consumer) running against it.
 */
import { nanos, RetentionPolicy, StorageType } from "nats";
import { connectNats } from "../../components/jetstream/connection";
import type { LocalDeployment } from "../local/localNats";
import { localEndpoint } from "../runbook/localInfra";
import { CdrTraffic } from "../traffic/cdrTraffic";
import { REHEARSAL_STREAM, REHEARSAL_SUBJECTS } from "./rehearsalConfig";
import { type RehearsalFindings, type RehearsalRun, recordedPhase } from "./rehearsalRun";
import { varzVersion } from "./serverVersions";

/** The `start-pilot` step; throws when it failed, as nothing can be rehearsed without it. */
export async function startPilot(run: RehearsalRun, found: RehearsalFindings): Promise<CdrTraffic> {
  const { pilot } = run.servers;
  const started = await recordedPhase(run, "start-pilot", async () => {
    await pilot.start();
    await pilot.waitHealthy();
    await createStream(pilot);
    found.pilotVersion = await varzVersion(pilot);
    // Found before it starts, so that a traffic which fails half-way is still stopped.
    found.traffic = new CdrTraffic({
      target: localEndpoint(pilot).client,
      ratePerSec: run.ratePerSec,
      consumer: { stream: REHEARSAL_STREAM, deliverPolicy: "all" },
    });
    await found.traffic.start();
    return true;
  });
  if (started === undefined || found.traffic === undefined) throw new Error("the pilot did not start");
  return found.traffic;
}

async function createStream(pilot: LocalDeployment): Promise<void> {
  const nc = await connectNats(localEndpoint(pilot).client);
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: REHEARSAL_STREAM,
      subjects: REHEARSAL_SUBJECTS,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      num_replicas: 1,
      duplicate_window: nanos(120_000),
    });
  } finally {
    await nc.close();
  }
}
