/**
 * IdempotencyStore on its own, hosted by workerd (runInDurableObject): proceed, in progress,
 * replay of the exact answer text, mismatch, release, expiry after 24 hours and the alarm.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { IDEMPOTENCY_TTL_MS, type IdempotencyStore } from "../../../../workers/app/src/guard/idempotency";

const store = (name: string) => env.IDEMPOTENCY.get(env.IDEMPOTENCY.idFromName(name));

afterEach(() => {
  vi.useRealTimers();
});

describe("IdempotencyStore", () => {
  it("runs the first call, holds a repeat while it runs, then replays the stored text as it was", async () => {
    const stub = store("replay");
    expect(await stub.begin("h1")).toEqual({ kind: "proceed" });
    expect(await stub.begin("h1")).toEqual({ kind: "in_progress" });
    await stub.complete('{"id":"gen_1", "images":[]}');
    expect(await stub.begin("h1")).toEqual({ kind: "replay", answer: '{"id":"gen_1", "images":[]}' });
  });

  it("answers mismatch for the same key with another body, running or done", async () => {
    const stub = store("mismatch");
    await stub.begin("h1");
    expect(await stub.begin("h2")).toEqual({ kind: "mismatch" });
    await stub.complete("{}");
    expect(await stub.begin("h2")).toEqual({ kind: "mismatch" });
  });

  it("forgets the key when the call failed, so the client may try again", async () => {
    const stub = store("release");
    await stub.begin("h1");
    await stub.release();
    expect(await stub.begin("h2")).toEqual({ kind: "proceed" });
  });

  it("sets an alarm for the end of the TTL; the alarm removes the entry", async () => {
    const stub = store("alarm");
    const before = Date.now();
    await stub.begin("h1");
    const alarm = await runInDurableObject(stub, (_o: IdempotencyStore, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(before + IDEMPOTENCY_TTL_MS);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = await runInDurableObject(stub, (_o: IdempotencyStore, state) => state.storage.get("entry"));
    expect(left).toBeUndefined();
  });

  it("treats an entry past the TTL as gone even before the alarm ran", async () => {
    const stub = store("expired");
    await stub.begin("h1");
    const again = await runInDurableObject(stub, async (object: IdempotencyStore) => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.now() + IDEMPOTENCY_TTL_MS + 1);
      return object.begin("h2");
    });
    expect(again).toEqual({ kind: "proceed" });
  });
});
