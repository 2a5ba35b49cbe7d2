/** Every command of the CLI, registered in the order `--help` lists them. */
import type { Command } from "commander";
import { registerCutover } from "./cutoverCommand";
import { registerDrift } from "./driftCommand";
import { registerFailoverTest } from "./failoverTestCommand";
import { registerMonitor } from "./monitorCommand";
import { registerRehearse } from "./rehearseCommand";
import { registerRollback } from "./rollbackCommand";
import { registerServerCommands } from "./serverCommands";
import { registerStreamCommands } from "./streamCommands";

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
