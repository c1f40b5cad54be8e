import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { queueConfig } from "../../../../workers/app/src/config";
import { STALE_GRANT_MS } from "../../../../workers/app/src/queue/upkeep";
import { TestDispatcher } from "../../worker";
import { advance, dispatcher, done, peek, rateLimited, type Stub } from "./dispatcher-helpers";

/** Never called: only the presence of the binding matters to the config. */
const RELAY = { fetch: () => Promise.reject(new Error("not used")) } as unknown as Fetcher;

describe("queueConfig", () => {
  it("has the documented defaults: no limit (learn it), no cap, 300 s, 1000, a minute", () => {
    expect(queueConfig({ IMAGES: env.IMAGES, RELAY })).toEqual({
      imagesPerMinute: undefined,
      maxConcurrent: undefined,
      maxWaitS: 300,
      maxLength: 1000,
      windowMs: 60_000,
    });
  });

  it("reads every setting, and refuses a bad one rather than guess", () => {
    const set = { OPENAI_IMAGES_PER_MINUTE: "5", MAX_CONCURRENT_GENERATIONS: "2", QUEUE_WINDOW_S: "4" };
    expect(queueConfig({ IMAGES: env.IMAGES, RELAY, ...set, QUEUE_MAX_WAIT_S: "30", QUEUE_MAX_LENGTH: "7" })).toEqual({
      imagesPerMinute: 5,
      maxConcurrent: 2,
      maxWaitS: 30,
      maxLength: 7,
      windowMs: 4000,
    });
    expect(() => queueConfig({ IMAGES: env.IMAGES, RELAY, OPENAI_IMAGES_PER_MINUTE: "0" })).toThrow(/at least 1/);
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

/** The dispatcher's own keys in its storage (the tests' clock and settings left out), with sizes. */
const stored = (stub: Stub) =>
  runInDurableObject(stub, (_o, state) =>
    Object.fromEntries(
      [...state.storage.kv.list({ prefix: "dispatch" })].map(([key, value]) => [key, JSON.stringify(value).length]),
    ),
  );

describe("what the dispatcher stores", () => {
  it("with nobody waiting: a grant writes only its own key; its release deletes it and writes the limits", async () => {
    const stub = await dispatcher({ imagesPerMinute: 10_000 });
    expect(await stub.enter("g1", "c1", 1)).toEqual({ granted: true });
    const afterGrant = await stored(stub);
    expect(Object.keys(afterGrant)).toEqual(["dispatch:grant:g1"]);
    expect(afterGrant["dispatch:grant:g1"]).toBeLessThan(200);
    expect(await stub.release("g1", done)).toEqual({ released: true });
    expect(Object.keys(await stored(stub))).toEqual(["dispatch:limits"]);
  });

  it("stays bounded: 600 generations in a minute leave one small value, and the window still counts them all", async () => {
    const stub = await dispatcher({ imagesPerMinute: 10_000 });
    for (let i = 0; i < 600; i++) {
      expect(await stub.enter(`g${i}`, `c${i % 7}`, 1)).toEqual({ granted: true });
      if (i < 595) await stub.release(`g${i}`, done);
      if (i % 60 === 59) await advance(stub, 5000);
    }
    const keys = await stored(stub);
    // Five calls in flight, one key each; the rest is the limits' value, whatever the traffic.
    const grants = [595, 596, 597, 598, 599].map((i) => `dispatch:grant:g${i}`);
    expect(Object.keys(keys).sort()).toEqual([...grants, "dispatch:limits"]);
    expect(keys["dispatch:limits"]).toBeLessThan(4000);
    // 50 s of traffic, all within the window (and its guard): every image still counts.
    expect(await stub.stats()).toMatchObject({ windowImages: 600, inflight: 5 });
  });

  it("a restart after grants with nobody waiting gives no seq twice: a 429'd grant goes back ahead of its client's later one", async () => {
    const stub = await dispatcher({ maxConcurrent: 1, imagesPerMinute: 100 });
    expect(await stub.acquire("a", "c1", 1)).toEqual({ granted: true }); // seq 1, the queue not written
    const order = await runInDurableObject(stub, async (_o, state) => {
      const fresh = new TestDispatcher(state, env);
      const b = fresh.acquire("b", "c1", 1); // waits behind a's concurrency slot
      expect(await fresh.release("a", rateLimited(1))).toEqual({ requeued: true });
      const places = [await fresh.position("a"), await fresh.position("b")].map((p) => p?.position);
      expect(await fresh.cancel("b")).toBe(true);
      await b;
      return places;
    });
    expect(order).toEqual([1, 2]);
  });

  it("reads the first layout's single value (a deploy mid-queue keeps the queue, its order and its grants)", async () => {
    const stub = await dispatcher({ maxConcurrent: 1, imagesPerMinute: 100 });
    const after = await runInDurableObject(stub, async (_o, state) => {
      const now = Date.now();
      const entry = (gen: string, client: string, seq: number) => ({ gen, client, images: 1, seq, enqueuedAt: now });
      state.storage.kv.put("dispatch", {
        fair: {
          nextSeq: 5,
          ring: [
            { client: "c2", deficit: 1, entries: [entry("b", "c2", 2), entry("d", "c2", 4)] },
            { client: "c3", deficit: 0, entries: [entry("c", "c3", 3)] },
          ],
        },
        limits: {
          sent: [
            { gen: "old", at: now - 1000, images: 2, state: "ok" },
            { gen: "a", at: now, images: 1, state: "inflight" },
          ],
          learned: null,
          safe: 2,
          blockedUntil: 0,
          backoffMs: 0,
          quietSince: now,
          meanCallMs: 30_000,
        },
        granted: { a: { entry: entry("a", "c1", 1), at: now } },
        expired: {},
      });
      const fresh = new TestDispatcher(state, env);
      const places = await Promise.all(["b", "c", "d"].map((gen) => fresh.position(gen)));
      return {
        places: places.map((p) => p?.position),
        stats: await fresh.stats(),
        legacy: state.storage.kv.get("dispatch"),
      };
    });
    expect(after.places).toEqual([1, 2, 3]);
    expect(after.stats).toMatchObject({ queued: 3, inflight: 1, windowImages: 3 });
    expect(after.legacy).toBeUndefined();
    expect(Object.keys(await stored(stub)).sort()).toEqual(["dispatch:grant:a", "dispatch:limits", "dispatch:queue"]);
  });
});
