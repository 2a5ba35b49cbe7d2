/**
 * The system-account connection next to the applications' one: same servers, user `system`
 * (`--system-user`), password from `--system-password` or NATS_SYSTEM_PASSWORD. Absent when no
 * password is known, so commands that only optionally need it still run.
 */
import type { ConnectionTarget } from "../../components/jetstream/connection";

export function systemTarget(
  target: ConnectionTarget,
  flags: { readonly systemUser?: string; readonly systemPassword?: string },
  env: NodeJS.ProcessEnv = process.env,
): ConnectionTarget | undefined {
  const password = flags.systemPassword ?? env.NATS_SYSTEM_PASSWORD;
  if (password === undefined || password === "") return undefined;
  return { ...target, user: flags.systemUser ?? "system", password };
}
