/**
 * What the cutover and rollback steps work with: the infrastructure seam, the operator hooks, the
 * state directory (journal, backups) and connections that are opened once and closed at the end.
 */
import { statfsSync } from "node:fs";
import type { NatsConnection } from "nats";
import { loadStackConfig, type StackConfig } from "../../components/config/config";
import { connectNats } from "../../components/jetstream/connection";
import type { Infra, OperatorHooks, StackEndpoint } from "./infra";

/** The failover test's figures, as journaled and reported. */
export type FailoverOutput = {
  outcome: "ok" | "ok after rebuilding a diverged copy";
  node: string;
  nodeWasLeader: boolean;
  newLeader: string;
  leaderElectedMs: number | null;
  unavailableMs: number | null;
  downMs: number;
  catchUpMs: number | null;
  ackedWhileDown: number;
  lost: number | null;
  firstReadLost: number | null;
  rebuilt: string[];
};

/** Runs the failover test against a stack (runbook steps 9–10); returns its figures for the journal. */
export type FailoverRunner = (
  ctx: ProcedureContext,
  endpoint: StackEndpoint,
  log: (line: string) => void,
) => Promise<FailoverOutput>;

/** What the monitor step started: the check's line and the command that keeps watching. */
export type MonitorOutput = { check: string; command: string };

/** Starts (or describes) the monitor (runbook step 11); returns what was started. */
export type MonitorStarter = (
  ctx: ProcedureContext,
  endpoint: StackEndpoint,
  log: (line: string) => void,
) => Promise<MonitorOutput>;

export interface ProcedureOptions {
  /** The pilot's stack. Default `staging`. */
  readonly pilotStack: string;
  /** The cluster's stack. Default `ga`. */
  readonly gaStack: string;
  /** Journal and backups live here. */
  readonly stateDir: string;
  /** Overall limit for waiting on replicas, restores, health. Default 120000 ms. */
  readonly timeoutMs: number;
  /**
   * Rehearsal-only sabotage: skip the copy of the messages published after the backup (action and
   * check), to prove the rehearsal notices the loss. Never set by the `cutover` command.
   */
  readonly skipCopySinceBackup?: boolean;
}

export class ProcedureContext {
  private readonly conns = new Map<string, Promise<NatsConnection>>();

  constructor(
    readonly infra: Infra,
    readonly hooks: OperatorHooks,
    readonly opts: ProcedureOptions,
    readonly failover: FailoverRunner,
    readonly monitor: MonitorStarter,
  ) {}

  /**
   * The stack's validated config, every default filled in: the one place steps and runners take
   * the stream's name or replicas from, so a default is never repeated downstream.
   */
  async config(stack: string): Promise<StackConfig> {
    const raw = await this.infra.readConfig(stack);
    return loadStackConfig((key) => raw[key]);
  }

  /** A client connection to the stack (reconnecting), opened on first use. */
  async client(stack: string): Promise<NatsConnection> {
    let c = this.conns.get(stack);
    if (c === undefined) {
      c = this.infra
        .endpoint(stack)
        .then((e) => connectNats({ ...e.client, name: `akira-nats runbook ${stack}`, reconnect: true }));
      this.conns.set(stack, c);
      c.catch(() => this.conns.delete(stack));
    }
    return c;
  }

  /** A system-account connection to the stack (per-server stream copies, server list), opened on first use. */
  async system(stack: string): Promise<NatsConnection> {
    const key = `${stack}#system`;
    let c = this.conns.get(key);
    if (c === undefined) {
      c = this.infra
        .endpoint(stack)
        .then((e) =>
          connectNats({ ...e.system, name: `akira-nats runbook ${stack} (system)`, reconnect: true }),
        );
      this.conns.set(key, c);
      c.catch(() => this.conns.delete(key));
    }
    return c;
  }

  /** Closes the stack's connection (its servers are about to go away). */
  async forget(stack: string): Promise<void> {
    for (const key of [stack, `${stack}#system`]) {
      const c = this.conns.get(key);
      this.conns.delete(key);
      await c?.then((nc) => nc.close()).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const stacks = new Set([...this.conns.keys()].map((k) => k.replace(/#system$/, "")));
    await Promise.all([...stacks].map((s) => this.forget(s)));
  }
}

/** Free bytes of the file system holding `dir` (for the backup's disk check). */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}
