/**
 * The rehearsal's nats-server processes: the pilot (127.0.0.1, the staging renderer's config) and
 * the three GA nodes (127.0.0.2–4, the GA renderer's), the {@link LocalInfra} the procedures reach
 * them through, and the guard that takes them down with this process.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CLIENT_PORT, CLUSTER_PORT, MONITOR_PORT } from "../../components/cluster/natsConf";
import { issueAuthority } from "../../components/tls/certificates";
import {
  createLocalCluster,
  createLocalPilot,
  type LocalDeployment,
  type LocalSecrets,
  randomSecrets,
} from "../local/localNats";
import { LocalInfra } from "../runbook/localInfra";
import { portsFree } from "./ports";
import { rehearsalConfig } from "./rehearsalConfig";
import { type RehearsalBinary, rehearsalBinary } from "./serverVersions";

/** The servers asked for (the rehearsal's options of that name). */
export interface ServerChoice {
  readonly pilotNatsServer?: string;
  readonly gaNatsServer?: string;
  readonly ports?: "auto" | "vm" | "random";
  readonly keepRunning?: boolean;
}

export interface RehearsalServers {
  readonly pilot: LocalDeployment;
  readonly ga: LocalDeployment;
  readonly secrets: LocalSecrets;
  readonly mode: "vm" | "random";
  readonly pilotBinary: RehearsalBinary;
  readonly gaBinary: RehearsalBinary;
  readonly infra: LocalInfra;
}

/** Takes the servers down with this process until the rehearsal lifts it, in two stages. */
export interface ServerGuard {
  /** SIGINT and SIGTERM get their default handling back. */
  dropSignalHandlers(): void;
  /** The servers are stopped or handed over: exiting need not kill them any more. */
  dropExitHook(): void;
}

const PILOT_HOST = "127.0.0.1";
const GA_HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];

/** Fresh directories under `reportDir/servers` and the deployments in them, none started yet. */
export async function prepareServers(choice: ServerChoice, reportDir: string): Promise<RehearsalServers> {
  const pilotBinary = rehearsalBinary(choice.pilotNatsServer, "--pilot-nats-server");
  const gaBinary = rehearsalBinary(choice.gaNatsServer, "--ga-nats-server");
  const dir = join(reportDir, "servers");
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const secrets = randomSecrets();
  const mode = await portMode(choice.ports);
  const pilot = await createLocalPilot({
    dir,
    secrets,
    ports: mode,
    maxFileStoreBytes: 1024 ** 3,
    natsServerBin: pilotBinary.bin,
  });
  // The GA nodes serve clients over TLS, as on Hetzner: the same renderer, an authority and a
  // certificate per node issued the same way, so the whole cutover and rollback run encrypted.
  const ga = await createLocalCluster({
    dir,
    secrets,
    hosts: GA_HOSTS,
    ports: mode,
    maxFileStoreBytes: 1024 ** 3,
    natsServerBin: gaBinary.bin,
    tls: { authority: issueAuthority("akira-ga client TLS authority (rehearsal)", 30) },
  });
  // A pilot kept running after the report must outlive this process and its terminal's Ctrl-C.
  if (choice.keepRunning === true) for (const n of pilot.nodes) n.detach = true;
  const config = rehearsalConfig(secrets, PILOT_HOST, ga.nodes.length, pilotBinary.version);
  const infra = new LocalInfra({ pilot, ga, config: { staging: config.staging, ga: config.ga } });
  return { pilot, ga, secrets, mode, pilotBinary, gaBinary, infra };
}

/** `auto` takes the VMs' ports when every one of them is free on the rehearsal's addresses. */
async function portMode(requested: ServerChoice["ports"]): Promise<"vm" | "random"> {
  if (requested === "vm" || requested === "random") return requested;
  const vmPortsFree = await portsFree([
    ...[CLIENT_PORT, MONITOR_PORT].map((port) => ({ host: PILOT_HOST, port })),
    ...GA_HOSTS.flatMap((host) => [CLIENT_PORT, CLUSTER_PORT, MONITOR_PORT].map((port) => ({ host, port }))),
  ]);
  return vmPortsFree ? "vm" : "random";
}

/** Whatever ends this process (Ctrl-C, a closed pipe, a crash) also ends its nats-servers. */
export function guardServers(servers: RehearsalServers): ServerGuard {
  const killAll = () => {
    for (const n of [...servers.pilot.nodes, ...servers.ga.nodes]) {
      if (n.running && n.pid !== undefined) {
        try {
          process.kill(n.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    killAll();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("exit", killAll);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    dropSignalHandlers() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
    dropExitHook() {
      process.off("exit", killAll);
    },
  };
}

/** Stops the GA nodes, and the pilot unless it is kept for the operator (detached already). */
export async function stopServers(servers: RehearsalServers, keepPilot: boolean): Promise<void> {
  await servers.ga.stop();
  if (!keepPilot) await servers.pilot.stop();
}
