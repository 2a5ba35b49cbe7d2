/** Every command of the CLI, registered in the order `--help` lists them. */
import type { Command } from "commander";
import { registerCutover } from "./cutover";
import { registerDrift } from "./drift";
import { registerFailoverTest } from "./failoverTest";
import { registerMonitor } from "./monitor";
import { registerRehearse } from "./rehearse";
import { registerRollback } from "./rollback";
import { registerServerCommands } from "./server";
import { registerStreamCommands } from "./stream";

export function registerCommands(program: Command): void {
  registerStreamCommands(program);
  registerServerCommands(program);
  registerDrift(program);
  registerFailoverTest(program);
  registerMonitor(program);
  registerCutover(program);
  registerRollback(program);
  registerRehearse(program);
}
