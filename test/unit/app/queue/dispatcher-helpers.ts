/** Helpers of the dispatcher's unit tests: a fresh object with its settings, its clock, outcomes. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { QueueLimitsConfig } from "../../../../workers/app/src/queue/limits";
import { TEST_CONFIG_KEY, TEST_OFFSET_KEY, type TestDispatcher } from "../../worker";

export type Stub = DurableObjectStub<TestDispatcher>;

/** A fresh dispatcher with its own settings (stored, so they survive an eviction). */
export async function dispatcher(config: Partial<QueueLimitsConfig>): Promise<Stub> {
  const stub = env.DISPATCH.get(env.DISPATCH.newUniqueId());
  await runInDurableObject(stub, (_o, state) => state.storage.kv.put(TEST_CONFIG_KEY, config));
  return stub;
}

/** Moves the dispatcher's clock on without sleeping. */
export const advance = (stub: Stub, ms: number) =>
  runInDurableObject(stub, (_o, state) =>
    state.storage.kv.put(TEST_OFFSET_KEY, (state.storage.kv.get<number>(TEST_OFFSET_KEY) ?? 0) + ms),
  );

/** The value of a promise that has settled within 100 ms, else "pending". */
export const peek = (p: PromiseLike<unknown>): Promise<unknown> =>
  Promise.race([p, new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), 100))]);

/** Waits (polling, at most 2 s) until `cond` holds. */
export async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
}

export const done = { kind: "done" } as const;
export const rateLimited = (retryAfterS: number) =>
  ({
    kind: "failed",
    status: 429,
    code: "rate_limit_exceeded",
    headers: { "retry-after": String(retryAfterS) },
  }) as const;
