/** `akira-nats rehearse --rolling-upgrade`: runs the rolling-upgrade rehearsal and prints its result. */
export interface RollingUpgradeCommandOptions {
  readonly reportDir: string;
  readonly ratePerSec: number;
  readonly json: boolean;
}

export async function runRollingUpgradeRehearsal(_opts: RollingUpgradeCommandOptions): Promise<number> {
  throw new Error("the rolling-upgrade rehearsal is not available in this build");
}
