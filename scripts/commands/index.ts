/** Every command of the CLI, registered in the order `--help` lists them. */
import type { Command } from "commander";

export function registerCommands(_program: Command): void {}
