/**
 * The unit project's `main` (vitest.config.ts): the Durable Object classes unit tests run in
 * workerd with `runInDurableObject`. Test subclasses read their clock offset and settings from
 * their own storage, so both survive an eviction like the state under test does.
 */
import { Generation } from "../../workers/app/src/generations/object";
import { Dispatcher } from "../../workers/app/src/queue/dispatcher";

export { BudgetLedger, ClientLimiter, Generation, IdempotencyStore } from "../../workers/app/src/index";

import { QUEUE_DEFAULTS, type QueueLimitsConfig } from "../../workers/app/src/queue/limits";

/** Storage keys the tests write (only the test subclass reads them). */
export const TEST_OFFSET_KEY = "test:offset";
export const TEST_CONFIG_KEY = "test:config";

/**
 * The dispatcher on a clock that runs ahead of real time by a stored offset: tests move time
 * without sleeping, and alarms (set in the clock's time) never fire before the clock reaches them.
 */
export class TestDispatcher extends Dispatcher {
  protected override now(): number {
    return Date.now() + (this.ctx.storage.kv.get<number>(TEST_OFFSET_KEY) ?? 0);
  }

  protected override config(): QueueLimitsConfig {
    return { ...QUEUE_DEFAULTS, ...this.ctx.storage.kv.get<Partial<QueueLimitsConfig>>(TEST_CONFIG_KEY) };
  }
}

/** A generation whose turn comes 300 ms late, so a test can act while its run waits. */
export class TestGeneration extends Generation {
  protected override async waitForTurn(): Promise<undefined> {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return undefined;
  }
}

/** A generation whose every ask of the queue breaks (as `retried` gives up on a dispatcher that stays down). */
export class BrokenQueueGeneration extends Generation {
  protected override async waitForTurn(): Promise<undefined> {
    throw new Error("The dispatcher could not be reached");
  }
}

export default {
  fetch: () => new Response("unit-test worker", { status: 404 }),
} satisfies ExportedHandler;
