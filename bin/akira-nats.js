#!/usr/bin/env node
// Launcher for the TypeScript CLI. It runs on the project's own Node 22 (the `node` devDependency)
// whatever `node` is first on the PATH, and loads tsx so there is no build step to forget.
const { spawnSync } = require("node:child_process");
const { existsSync } = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");
const projectNode = path.join(root, "node_modules", "node", "bin", "node");
const node = existsSync(projectNode) ? projectNode : process.execPath;
const result = spawnSync(
  node,
  [
    "--import",
    require.resolve("tsx", { paths: [root] }),
    path.join(root, "scripts", "akira-nats.ts"),
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);
if (result.error) {
  process.stderr.write(`akira-nats: cannot start ${node}: ${result.error.message} (run \`npm ci\` first)\n`);
}
process.exit(result.status ?? 1);
