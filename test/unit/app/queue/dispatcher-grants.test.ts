/**
 * The dispatcher grants only to generations there to send (one waiting in `acquire`, or the
 * caller), and a generation's last report takes nothing back into the queue: no grant is made
 * that nobody will send or release.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_OFFSET_KEY, TestDispatcher } from "../../worker";
import { advance, dispatcher, done, peek } from "./dispatcher-helpers";

const limited = {
  kind: "failed",
  status: 429,
  code: "rate_limit_exceeded",
  headers: { "retry-after-ms": "1" },
} as const;

describe("Dispatcher: grants only to generations there to send", () => {
  it("after a restart its alarm grants nobody who has not asked again: nothing counted or held, places kept", async () => {
    const stub = await dispatcher({ imagesPerMinute: 1 });
    expect(await stub.acquire("a", "c1", 1)).toEqual({ granted: true });
    for (const [gen, client] of [
      ["b", "c2"],
      ["c", "c3"],
      ["d", "c4"],
    ])
      void stub.acquire(gen as string, client as string, 1);
    expect(await stub.position("d")).toMatchObject({ position: 3 });
    // A restart: a new instance over the same storage, whose waiters' RPCs broke with the old one.
    const seen = await runInDurableObject(stub, async (_o, state) => {
      const later = (ms: number) =>
        state.storage.kv.put(TEST_OFFSET_KEY, (state.storage.kv.get<number>(TEST_OFFSET_KEY) ?? 0) + ms);
      const fresh = new TestDispatcher(state, env);
      await fresh.release("a", done);
      later(61_001);
      await fresh.alarm(); // the window has room, but b, c and d have not asked again
      const idle = await fresh.stats();
      // c's generation asks first: it is granted; b, away, keeps the first place.
      const c = await peek(fresh.acquire("c", "c3", 1));
      const places = await Promise.all(["b", "d"].map((gen) => fresh.position(gen)));
      const b = fresh.acquire("b", "c2", 1);
      const bWhileFull = await peek(b);
      later(61_001);
      await fresh.alarm();
      return { idle, c, places, bWhileFull, b: await peek(b), d: await fresh.position("d"), end: await fresh.stats() };
    });
    expect(seen.idle).toMatchObject({ queued: 3, inflight: 0, windowImages: 0 });
    expect(seen.c).toEqual({ granted: true });
    expect(seen.places.map((p) => p?.position)).toEqual([1, 2]);
    expect(seen.bWhileFull).toBe("pending"); // one image per window, and c's is in it
    expect(seen.b).toEqual({ granted: true });
    expect(seen.d).toMatchObject({ position: 1 });
    expect(seen.end).toMatchObject({ queued: 1, inflight: 2, windowImages: 1 });
  });

  it("a generation requeued by a 429 is not granted again until it asks again", async () => {
    const stub = await dispatcher({ maxConcurrent: 1 });
    expect(await stub.acquire("g", "c1", 1)).toEqual({ granted: true });
    expect(await stub.release("g", limited)).toEqual({ requeued: true });
    await advance(stub, 5); // the wait hint has passed
    await runDurableObjectAlarm(stub);
    expect(await stub.stats()).toMatchObject({ queued: 1, inflight: 0 });
    expect(await stub.acquire("g", "c1", 1)).toEqual({ granted: true });
    expect(await stub.stats()).toMatchObject({ queued: 0, inflight: 1 });
  });

  it("a final release learns from the 429 and frees the grant without requeueing: the slot goes to the next client", async () => {
    const stub = await dispatcher({ maxConcurrent: 1 });
    expect(await stub.acquire("g", "c1", 1)).toEqual({ granted: true });
    // The last turn's 429 (generations/turn.ts MAX_TURNS): the generation will not ask again.
    expect(await stub.release("g", { ...limited, final: true })).toEqual({ released: true });
    expect(await stub.release("g", { ...limited, final: true })).toEqual({ released: true }); // a retry
    expect(await stub.stats()).toMatchObject({ queued: 0, inflight: 0, learned: 1 });
    await advance(stub, 5);
    expect(await stub.cancel("g")).toBe(false); // nothing of it waits
    expect(await stub.acquire("h", "c2", 1)).toEqual({ granted: true });
    expect(await stub.stats()).toMatchObject({ queued: 0, inflight: 1 });
  });
});
