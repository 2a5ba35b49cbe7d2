#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript, run through tsx so there is no build step to forget.
const { spawnSync } = require("node:child_process");
const path = require("node:path");
const root = path.join(__dirname, "..");
const result = spawnSync(
  process.execPath,
  [
    "--import",
    require.resolve("tsx", { paths: [root] }),
    path.join(root, "scripts", "akira-nats.ts"),
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
