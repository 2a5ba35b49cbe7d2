#!/usr/bin/env node
// Launcher for the TypeScript CLI. It runs on the project's own Node 22 (the `node` devDependency)
// whatever `node` is first on the PATH, and loads tsx so there is no build step to forget.
// Signals sent to the launcher alone (a `kill` of its pid, a supervisor's SIGTERM) are passed on
// to the CLI, whose clean stop they trigger, and the launcher exits with the CLI's own code: the
// caller never sees the launcher end while the real work goes on.
const { spawn } = require("node:child_process");
const { existsSync } = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");
const projectNode = path.join(root, "node_modules", "node", "bin", "node");
const node = existsSync(projectNode) ? projectNode : process.execPath;
const child = spawn(
  node,
  [
    "--import",
    require.resolve("tsx", { paths: [root] }),
    path.join(root, "scripts", "akira-nats.ts"),
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  // A terminal's Ctrl-C reaches both processes; forwarding it too would count as a second signal.
  process.on(signal, () => {
    if (signal !== "SIGINT" || !process.stdin.isTTY) child.kill(signal);
  });
}
child.on("error", (err) => {
  process.stderr.write(`akira-nats: cannot start ${node}: ${err.message} (run \`npm ci\` first)\n`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  if (signal !== null) {
    // Ended by a signal: end the same way, so the caller sees what the CLI's own caller would.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
