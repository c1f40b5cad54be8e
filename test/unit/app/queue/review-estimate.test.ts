/**
 * Review of issue 16: the queue's estimated wait (`queued` events, GET's `queue.eta_s`, the
 * page's "about 40 s", queue_full's Retry-After) against the wait the dispatcher then gives.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advance, dispatcher, done, peek } from "./dispatcher-helpers";

describe("review: estimated wait under a known limit", () => {
  it("the third in line behind a full window is told about the wait it then gets (two windows), not one", async () => {
    const stub = await dispatcher({ imagesPerMinute: 2 });
    expect(await stub.acquire("a", "c1", 1)).toEqual({ granted: true });
    expect(await stub.acquire("b", "c2", 1)).toEqual({ granted: true });
    const c = stub.acquire("c", "c3", 1);
    const d = stub.acquire("d", "c4", 1);
    const e = stub.acquire("e", "c5", 1);
    expect(await peek(e)).toBe("pending");
    const told = (await stub.position("e"))?.etaS ?? -1;
    await stub.release("a", done);
    await stub.release("b", done);
    // One window later c and d get in; e does not fit (limit 2).
    await advance(stub, 61_001);
    await runDurableObjectAlarm(stub);
    expect(await c).toEqual({ granted: true });
    expect(await d).toEqual({ granted: true });
    expect(await peek(e)).toBe("pending");
    await stub.release("c", done);
    await stub.release("d", done);
    // Its turn comes only when c and d leave the window: 122 s after it was told its wait.
    await advance(stub, 61_001);
    await runDurableObjectAlarm(stub);
    expect(await e).toEqual({ granted: true });
    const waited = 122;
    expect(told).toBeGreaterThanOrEqual(waited - 2);
  });

  it("a generation whose wait (a full window) is past QUEUE_MAX_WAIT_S is refused at once as queue_full, not queued to time out", async () => {
    const stub = await dispatcher({ imagesPerMinute: 2, maxWaitS: 30 });
    expect(await stub.acquire("a", "c1", 1)).toEqual({ granted: true });
    expect(await stub.acquire("b", "c2", 1)).toEqual({ granted: true });
    // Nothing waits, but the window is full for 61 s: over the 30 s the operator allows.
    const entered = await stub.enter("c", "c3", 1);
    expect(entered).toMatchObject({ full: true });
  });
});
