/** Every command of the CLI, registered in the order `--help` lists them. */
import type { Command } from "commander";
import { registerDrift } from "./drift";

export function registerCommands(program: Command): void {
  registerDrift(program);
}
