/**
 * The app with one test seam: its `Generation` holds every report to the dispatcher (`release`)
 * while the var HOLD_RELEASE is "1", until the test calls `letGo()` on the object. Tests use it to
 * see what a client gets before the dispatcher heard the end, and to restart in between.
 */

import { Generation as AppGeneration } from "../../workers/app/src/index";
import type { ReleaseOutcome } from "../../workers/app/src/queue/dispatcher";

export * from "../../workers/app/src/index";
export { default } from "../../workers/app/src/index";

export class Generation extends AppGeneration {
  #held: Array<() => void> = [];

  protected override async release(gen: string, outcome: ReleaseOutcome) {
    if ((this.env as { HOLD_RELEASE?: string }).HOLD_RELEASE === "1") {
      await new Promise<void>((resolve) => this.#held.push(resolve));
    }
    return super.release(gen, outcome);
  }

  /** Lets the held reports go; how many there were. */
  async letGo(): Promise<number> {
    const held = this.#held.splice(0);
    for (const resolve of held) resolve();
    return held.length;
  }
}
