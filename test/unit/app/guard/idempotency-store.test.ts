/**
 * IdempotencyStore on its own, hosted by workerd (runInDurableObject): proceed, join of the
 * key's generation, mismatch, release (only by its own generation), expiry after 24 hours and
 * the alarm; entries of the shape written before durable generations (in progress, replay).
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { IDEMPOTENCY_TTL_MS, type IdempotencyStore } from "../../../../workers/app/src/guard/idempotency";

const store = (name: string) => env.IDEMPOTENCY.get(env.IDEMPOTENCY.idFromName(name));

afterEach(() => {
  vi.useRealTimers();
});

describe("IdempotencyStore", () => {
  it("takes the key for a generation; a repeat joins that generation, running or done", async () => {
    const stub = store("join");
    expect(await stub.begin("h1", "gen_a")).toEqual({ kind: "proceed" });
    expect(await stub.begin("h1", "gen_b")).toMatchObject({
      kind: "join",
      generationId: "gen_a",
      at: expect.any(Number),
    });
    await stub.complete("gen_a");
    expect(await stub.begin("h1", "gen_c")).toMatchObject({
      kind: "join",
      generationId: "gen_a",
      at: expect.any(Number),
    });
  });

  it("a release by another generation than the key's changes nothing", async () => {
    const stub = store("release-other");
    await stub.begin("h1", "gen_a");
    await stub.release("gen_old");
    expect(await stub.begin("h1", "gen_b")).toMatchObject({
      kind: "join",
      generationId: "gen_a",
      at: expect.any(Number),
    });
    await stub.release("gen_a");
    expect(await stub.begin("h1", "gen_b")).toEqual({ kind: "proceed" });
  });

  it("entries of the old shape: in progress while running, then the stored text replayed as it was", async () => {
    const stub = store("replay");
    const answer = '{"id":"gen_1", "images":[]}';
    await runInDurableObject(stub, (_o: IdempotencyStore, state) =>
      state.storage.put("entry", { state: "running", bodyHash: "h1", at: Date.now() }),
    );
    expect(await stub.begin("h1")).toEqual({ kind: "in_progress" });
    await runInDurableObject(stub, (_o: IdempotencyStore, state) =>
      state.storage.put("entry", { state: "done", bodyHash: "h1", answer, at: Date.now() }),
    );
    expect(await stub.begin("h1")).toEqual({ kind: "replay", answer });
  });

  it("answers mismatch for the same key with another body, running or done", async () => {
    const stub = store("mismatch");
    await stub.begin("h1", "gen_a");
    expect(await stub.begin("h2", "gen_b")).toEqual({ kind: "mismatch" });
    await stub.complete("gen_a");
    expect(await stub.begin("h2", "gen_b")).toEqual({ kind: "mismatch" });
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
