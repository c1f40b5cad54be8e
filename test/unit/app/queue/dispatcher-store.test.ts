import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { queueConfig, STALE_GRANT_MS } from "../../../../workers/app/src/queue/dispatcher-store";
import { advance, dispatcher, peek } from "./dispatcher-helpers";

describe("queueConfig", () => {
  it("has the documented defaults: no limit (learn it), no cap, 300 s, 1000, a minute", () => {
    expect(queueConfig({ IMAGES: env.IMAGES })).toEqual({
      imagesPerMinute: undefined,
      maxConcurrent: undefined,
      maxWaitS: 300,
      maxLength: 1000,
      windowMs: 60_000,
    });
  });

  it("reads every setting, and refuses a bad one rather than guess", () => {
    const set = { OPENAI_IMAGES_PER_MINUTE: "5", MAX_CONCURRENT_GENERATIONS: "2", QUEUE_WINDOW_S: "4" };
    expect(queueConfig({ IMAGES: env.IMAGES, ...set, QUEUE_MAX_WAIT_S: "30", QUEUE_MAX_LENGTH: "7" })).toEqual({
      imagesPerMinute: 5,
      maxConcurrent: 2,
      maxWaitS: 30,
      maxLength: 7,
      windowMs: 4000,
    });
    expect(() => queueConfig({ IMAGES: env.IMAGES, OPENAI_IMAGES_PER_MINUTE: "0" })).toThrow(/at least 1/);
  });
});

describe("stale grants", () => {
  it("a grant never released (its generation died) is taken back, so it cannot hold a slot for ever", async () => {
    const stub = await dispatcher({ maxConcurrent: 1, imagesPerMinute: 100, maxWaitS: 3600 });
    expect(await stub.acquire("dead", "c1", 1)).toEqual({ granted: true });
    const next = stub.acquire("next", "c2", 1);
    await advance(stub, STALE_GRANT_MS - 1000);
    await runDurableObjectAlarm(stub);
    expect(await peek(next)).toBe("pending");
    await advance(stub, 1000);
    await runDurableObjectAlarm(stub);
    expect(await next).toEqual({ granted: true });
    expect(await stub.stats()).toMatchObject({ inflight: 1, queued: 0 });
    expect(await stub.release("dead", { kind: "done" })).toEqual({ released: true }); // late: no effect
    expect(await stub.stats()).toMatchObject({ inflight: 1 });
  });
});
