/** Whether the VM ports are free on the rehearsal's loopback addresses. */
import { once } from "node:events";
import { createServer } from "node:net";

async function free(host: string, port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, host);
  try {
    await Promise.race([once(server, "listening"), once(server, "error").then(([e]) => Promise.reject(e))]);
  } catch {
    return false;
  }
  server.close();
  await once(server, "close");
  return true;
}

/** True when every `host:port` can be bound right now. */
export async function portsFree(
  addrs: readonly { readonly host: string; readonly port: number }[],
): Promise<boolean> {
  for (const a of addrs) if (!(await free(a.host, a.port))) return false;
  return true;
}
