/**
 * A shell script that stops and starts the nodes of a local cluster by name, as the failover test's
 * `--stop`/`--start` commands do with `ssh … systemctl` on the VMs: `ctl.sh stop nats-2`.
 * Restarted servers are children of nobody in the test, so their pids go to files and
 * {@link writeNodeControl} kills them when the test ends.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalDeployment, natsServerBin } from "../../scripts/local/localNats";

export function writeNodeControl(t: { after(fn: () => unknown): void }, d: LocalDeployment): string {
  const dir = mkdtempSync(join(tmpdir(), "akira-ctl-"));
  for (const n of d.nodes) writeFileSync(join(dir, `${n.spec.name}.pid`), String(n.pid));
  const cases = d.nodes
    .map((n) => `  ${n.spec.name}) conf='${n.confPath}'; log='${n.dir}/restart.log' ;;`)
    .join("\n");
  const script = join(dir, "ctl.sh");
  writeFileSync(
    script,
    `#!/bin/sh
# usage: ctl.sh stop|start|ldm NODE...
set -e
action=$1; shift
for node in "$@"; do
  case "$node" in
${cases}
  *) echo "unknown node $node" >&2; exit 2 ;;
  esac
  pidfile='${dir}'/$node.pid
  if [ "$action" = stop ]; then
    # Like systemctl stop: a server that already exited (after lame duck) is fine.
    pid=$(cat "$pidfile")
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  elif [ "$action" = ldm ]; then
    kill -USR2 "$(cat "$pidfile")"
  else
    '${natsServerBin()}' -c "$conf" >>"$log" 2>&1 </dev/null &
    echo $! > "$pidfile"
  fi
done
`,
    { mode: 0o755 },
  );
  t.after(() => {
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".pid"))) {
      const pid = Number(readFileSync(join(dir, f), "utf8"));
      if (d.nodes.some((n) => n.pid === pid)) continue;
      spawnSync("kill", ["-KILL", String(pid)]);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return script;
}
