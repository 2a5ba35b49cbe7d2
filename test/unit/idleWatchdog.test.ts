import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { idleWatchdog } from "../../components/jetstream/idleWatchdog";

describe("idleWatchdog - stops a read that went quiet", () => {
  const iterator = () => {
    let stops = 0;
    return {
      stop: () => {
        stops++;
      },
      get stops() {
        return stops;
      },
    };
  };

  it("fires after idleMs without a message; every touch restarts the wait; clear ends it", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const quiet = iterator();
      const quietDog = idleWatchdog(quiet, 1000);
      mock.timers.tick(999);
      assert.deepEqual([quietDog.fired, quiet.stops], [false, 0]);
      mock.timers.tick(1);
      assert.deepEqual([quietDog.fired, quiet.stops], [true, 1]);

      const busy = iterator();
      const busyDog = idleWatchdog(busy, 1000);
      for (let i = 0; i < 5; i++) {
        mock.timers.tick(900);
        busyDog.touch();
      }
      busyDog.clear();
      mock.timers.tick(10_000);
      assert.deepEqual([busyDog.fired, busy.stops], [false, 0]);
    } finally {
      mock.timers.reset();
    }
  });
});
