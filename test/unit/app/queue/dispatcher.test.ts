import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TestDispatcher } from "../../worker";
import { advance, dispatcher, done, peek, rateLimited, until } from "./dispatcher-helpers";

describe("Dispatcher", () => {
  it("grants at once when nothing waits and the window has room, without an alarm", async () => {
    const stub = await dispatcher({ imagesPerMinute: 5 });
    expect(await stub.acquire("g1", "c1", 1)).toEqual({ granted: true });
    expect(await stub.acquire("g1", "c1", 1)).toEqual({ granted: true }); // idempotent
    expect(await stub.stats()).toMatchObject({ queued: 0, inflight: 1, windowImages: 1, limit: 5 });
    expect(await stub.position("g1")).toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(false);
    expect(await stub.release("g1", done)).toEqual({ released: true });
    expect(await stub.release("g1", done)).toEqual({ released: true });
    expect(await stub.stats()).toMatchObject({ inflight: 0, windowImages: 1 });
  });

  it("queues when the window is full and grants as it slides", async () => {
    const stub = await dispatcher({ imagesPerMinute: 2 });
    expect(await stub.acquire("a", "c1", 1)).toEqual({ granted: true });
    expect(await stub.acquire("b", "c2", 1)).toEqual({ granted: true });
    const c = stub.acquire("c", "c3", 1);
    const d = stub.acquire("d", "c4", 1);
    expect(await peek(c)).toBe("pending");
    // Both get in when the window (60 s and its 1 s guard, limits.ts heldMs) slides past a and b.
    expect(await stub.position("c")).toEqual({ position: 1, etaS: 61 });
    expect(await stub.position("d")).toEqual({ position: 2, etaS: 61 });
    await stub.release("a", done);
    await stub.release("b", done);
    expect(await peek(c)).toBe("pending"); // released, but still in the window
    await advance(stub, 30_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await peek(c)).toBe("pending"); // the alarm came early only if the clock was wrong
    await advance(stub, 31_001);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await c).toEqual({ granted: true });
    expect(await d).toEqual({ granted: true });
    expect(await stub.stats()).toMatchObject({ queued: 0, inflight: 2, windowImages: 2 });
  });

  it("counts n as n images: a request that does not fit waits for the window, one larger than the limit is not starved", async () => {
    const stub = await dispatcher({ imagesPerMinute: 4 });
    expect(await stub.acquire("three", "c1", 3)).toEqual({ granted: true });
    expect(await stub.stats()).toMatchObject({ windowImages: 3 });
    const two = stub.acquire("two", "c2", 2);
    expect(await peek(two)).toBe("pending"); // 3 + 2 > 4
    expect(await stub.release("three", done)).toEqual({ released: true });
    await advance(stub, 61_001);
    await runDurableObjectAlarm(stub);
    expect(await two).toEqual({ granted: true });
    await stub.release("two", done);
    const ten = stub.acquire("ten", "c3", 10);
    expect(await peek(ten)).toBe("pending"); // larger than the limit: waits for an empty window
    await advance(stub, 61_001);
    await runDurableObjectAlarm(stub);
    expect(await ten).toEqual({ granted: true });
  });

  it("is fair: a client with 6 requests does not push 6 one-request clients behind all of its own", async () => {
    const stub = await dispatcher({ maxConcurrent: 1, imagesPerMinute: 100 });
    const order: string[] = [];
    const pending: Promise<unknown>[] = [];
    const ask = (gen: string, client: string) =>
      pending.push(stub.acquire(gen, client, 1).then((r) => order.push(gen) && r));
    for (let i = 1; i <= 6; i++) ask(`big${i}`, "big");
    await stub.stats(); // the big client's requests arrive first
    for (let i = 1; i <= 6; i++) ask(`one${i}`, `single${i}`);
    await stub.stats();
    expect(await stub.position("one6")).toMatchObject({ position: 7 }); // big2, one1…one5 ahead
    for (let n = 1; n <= 12; n++) {
      await until(() => order.length === n);
      expect(order).toHaveLength(n); // one call in flight at a time
      expect(await stub.release(order[n - 1] as string, done)).toEqual({ released: true });
    }
    await Promise.all(pending);
    expect(order).toEqual([
      "big1",
      "big2",
      "one1",
      "one2",
      "one3",
      "one4",
      "one5",
      "one6",
      "big3",
      "big4",
      "big5",
      "big6",
    ]);
  });

  it("puts a 429'd generation back at the head of its client's line and waits out retry-after", async () => {
    const stub = await dispatcher({}); // no limit known: learn it
    expect(await stub.acquire("a", "c1", 1)).toEqual({ granted: true });
    const b = stub.acquire("b", "c1", 1);
    expect(await peek(b)).toBe("pending"); // probing: one call at a time until one succeeds
    expect(await stub.release("a", rateLimited(2))).toEqual({ requeued: true });
    const { blockedUntil } = await stub.stats();
    expect(await stub.release("a", rateLimited(30))).toEqual({ requeued: true }); // a retry: no change
    expect((await stub.stats()).blockedUntil).toBe(blockedUntil);
    const a = stub.acquire("a", "c1", 1);
    expect(await peek(a)).toBe("pending");
    expect(await stub.position("a")).toMatchObject({ position: 1 });
    expect(await stub.position("b")).toMatchObject({ position: 2 });
    const stats = await stub.stats();
    expect(stats).toMatchObject({ learned: 1, inflight: 0, windowImages: 0 });
    await advance(stub, 1000);
    await runDurableObjectAlarm(stub);
    expect(await peek(a)).toBe("pending"); // still blocked by retry-after
    await advance(stub, 1001);
    await runDurableObjectAlarm(stub);
    expect(await a).toEqual({ granted: true });
    expect(await peek(b)).toBe("pending"); // learned limit 1 per window
  });

  it("cancels a waiting generation, and only a waiting one", async () => {
    const stub = await dispatcher({ imagesPerMinute: 1 });
    await stub.acquire("a", "c1", 1);
    const b = stub.acquire("b", "c2", 1);
    const c = stub.acquire("c", "c3", 1);
    expect(await peek(b)).toBe("pending");
    expect(await stub.position("c")).toMatchObject({ position: 2 });
    expect(await stub.cancel("b")).toBe(true);
    expect(await b).toEqual({ cancelled: true });
    expect(await stub.position("c")).toMatchObject({ position: 1 }); // places are read again after a change
    expect(await stub.position("b")).toBeNull();
    expect(await stub.cancel("b")).toBe(false);
    expect(await stub.cancel("a")).toBe(false); // granted: the generation ends it itself
    expect(await stub.cancel("c")).toBe(true);
    expect(await c).toEqual({ cancelled: true });
    expect(await stub.stats()).toMatchObject({ queued: 0, inflight: 1 });
  });

  it("expires an entry that waited QUEUE_MAX_WAIT_S, also for a retried acquire", async () => {
    const stub = await dispatcher({ imagesPerMinute: 1, maxWaitS: 100 });
    await stub.acquire("a", "c1", 1);
    const b = stub.acquire("b", "c2", 1);
    expect(await peek(b)).toBe("pending");
    await advance(stub, 100_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await b).toEqual({ expired: true });
    expect(await stub.acquire("b", "c2", 1)).toEqual({ expired: true });
    expect(await stub.stats()).toMatchObject({ queued: 0 });
  });

  it("answers full past QUEUE_MAX_LENGTH, with a Retry-After from the estimate", async () => {
    const stub = await dispatcher({ imagesPerMinute: 1, maxLength: 2 });
    await stub.acquire("a", "c1", 1);
    const waiting = [stub.acquire("b", "c2", 1), stub.acquire("c", "c3", 1)];
    // a, then b, c and d one per window (61 s each with its guard).
    expect(await stub.acquire("d", "c4", 1)).toEqual({ full: true, retryAfterS: 183 });
    expect(await stub.stats()).toMatchObject({ queued: 2 });
    expect(await stub.cancel("b")).toBe(true);
    expect(await stub.cancel("c")).toBe(true);
    await Promise.all(waiting);
  });

  it("tells a generation the wait it then gets: the third behind a full window waits two windows", async () => {
    const stub = await dispatcher({ imagesPerMinute: 2 });
    expect(await stub.acquire("a", "c1", 1)).toEqual({ granted: true });
    expect(await stub.acquire("b", "c2", 1)).toEqual({ granted: true });
    const c = stub.acquire("c", "c3", 1);
    const d = stub.acquire("d", "c4", 1);
    const e = stub.acquire("e", "c5", 1);
    expect(await peek(e)).toBe("pending");
    const told = (await stub.position("e"))?.etaS;
    await stub.release("a", done);
    await stub.release("b", done);
    // One window later c and d get in; e does not fit (limit 2).
    await advance(stub, 61_001);
    await runDurableObjectAlarm(stub);
    expect([await c, await d]).toEqual([{ granted: true }, { granted: true }]);
    expect(await peek(e)).toBe("pending");
    await stub.release("c", done);
    await stub.release("d", done);
    // Its turn comes when c and d leave the window: 122 s after it was told.
    await advance(stub, 61_001);
    await runDurableObjectAlarm(stub);
    expect(await e).toEqual({ granted: true });
    expect(told).toBe(122);
  });

  it("refuses at once as queue_full a generation whose wait (a full window) is past QUEUE_MAX_WAIT_S", async () => {
    const stub = await dispatcher({ imagesPerMinute: 2, maxWaitS: 30 });
    expect(await stub.acquire("a", "c1", 1)).toEqual({ granted: true });
    expect(await stub.acquire("b", "c2", 1)).toEqual({ granted: true });
    // Nothing waits, but the window is full for 61 s: over the 30 s the operator allows.
    expect(await stub.enter("c", "c3", 1)).toEqual({ full: true, retryAfterS: 61 });
    expect(await stub.stats()).toMatchObject({ queued: 0, inflight: 2 });
  });

  it("keeps the queue, its order and its grants across a restart", async () => {
    const stub = await dispatcher({ maxConcurrent: 1, imagesPerMinute: 100 });
    await stub.acquire("a", "c1", 1);
    for (const [gen, client] of [
      ["b", "c2"],
      ["c", "c3"],
      ["d", "c2"],
    ])
      void stub.acquire(gen as string, client as string, 1);
    expect(await stub.position("d")).toMatchObject({ position: 3 });
    // A restart: a new instance over the same storage, without the old one's memory. (Evicting
    // the object instead waits for the pending acquires to drain, which they never do, and
    // aborting it prints the broken output gate of each.)
    const after = await runInDurableObject(stub, async (_o, state) => {
      const fresh = new TestDispatcher(state, env);
      const places = await Promise.all(["b", "c", "d"].map((gen) => fresh.position(gen)));
      const before = await fresh.stats();
      expect(await fresh.release("a", done)).toEqual({ released: true }); // the grant survived
      // A waiter whose RPC broke calls again and hears of the grant made meanwhile.
      return { places, before, b: await fresh.acquire("b", "c2", 1), c: await fresh.position("c") };
    });
    expect(after.places.map((p) => p?.position)).toEqual([1, 2, 3]);
    expect(after.before).toMatchObject({ queued: 3, inflight: 1 });
    expect(after.b).toEqual({ granted: true });
    expect(after.c).toMatchObject({ position: 1 });
  });
});
