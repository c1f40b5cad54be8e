/**
 * Recovery and the guards, in workerd: a queued record is resumed while the dispatcher may keep
 * its place, and found past that ends `queue_timeout` unsent (charged nothing, key released)
 * instead of being sent late; an ended record whose settle never
 * finished is settled by the next instance; an expired record frees its Idempotency-Key.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AppBindings } from "../../../../workers/app/src/env";
import { newGenerationId } from "../../../../workers/app/src/generations/id";
import type { Generation } from "../../../../workers/app/src/generations/object";
import { nextCheck, queuedCheckMs, recoveryFor } from "../../../../workers/app/src/generations/recover";
import type { GenerationRecord } from "../../../../workers/app/src/generations/types";
import { idempotencyFor } from "../../../../workers/app/src/guard/idempotency";
import { queuedRecord } from "./fixtures";

const T0 = 1_790_000_000_000;
const TIMING = { timeoutMs: 3_000, ttlMs: 60_000, queueWaitMs: 10_000 };
const HOUR = 3_600_000;
const appEnv = env as unknown as AppBindings;
const budget = () => env.BUDGET.get(env.BUDGET.idFromName("global"));

/** A record in a fresh Generation object, with its own key and (optionally) an open budget hold. */
async function stored(overrides: Partial<GenerationRecord>, withHold = false) {
  const ns = env.GENERATIONS as DurableObjectNamespace<Generation>;
  const gen = ns.get(ns.newUniqueId());
  const key = `key-${crypto.randomUUID()}`;
  const hold = withHold ? await budget().reserve(0.05, 1_000, HOUR) : undefined;
  if (hold && !hold.ok) throw new Error("refused");
  const base = queuedRecord();
  const record = queuedRecord({
    id: `gen_${crypto.randomUUID().replaceAll("-", "")}`,
    ...overrides,
    spec: {
      ...base.spec,
      idempotency: { key, body_hash: "h" },
      budget: hold?.ok ? { hold_id: hold.id, estimate_usd: 0.05 } : undefined,
    },
  });
  const store = idempotencyFor(appEnv, record.spec.client, key);
  expect(await store.begin("h", record.id)).toEqual({ kind: "proceed" });
  await runInDurableObject(gen, async (_o, state) => {
    state.storage.kv.put("record", record);
  });
  await evictDurableObject(gen);
  return { gen, record, store, holdId: hold?.ok ? hold.id : undefined };
}

/** Whether the key is free: a begin for another generation proceeds instead of joining. */
const keyIsFree = async (store: ReturnType<typeof idempotencyFor>) =>
  (await store.begin("h", "gen_other")).kind === "proceed";

const openHolds = () =>
  runInDurableObject(budget(), async (_o, state) => {
    const ledger = await state.storage.get<{ holds: Record<string, unknown>; spent: number }>("ledger");
    return { holds: Object.keys(ledger?.holds ?? {}), spent: ledger?.spent ?? 0 };
  });

describe("a queued record", () => {
  it("is resumed by every alarm while the dispatcher may keep its place (twice the queue wait), never abandoned", () => {
    const queued = queuedRecord({ enqueued_at: T0 });
    // A tenth of QUEUE_MAX_WAIT_S, 1 to 5 s.
    expect(queuedCheckMs(TIMING)).toBe(1_000);
    expect(queuedCheckMs({ queueWaitMs: 300_000 })).toBe(5_000);
    expect(nextCheck(queued, TIMING)).toBe(T0 + 2 * 10_000 + 1_000);
    // With no run (a restart took it): the run starts again (acquire, same place), the alarm re-armed.
    for (const fresh of [true, false]) {
      expect(recoveryFor(queued, { ...TIMING, now: T0 + 20_999, running: false }, fresh)).toEqual({
        action: "resume",
        alarmAt: T0 + 21_999,
      });
    }
    // Well past its own QUEUE_MAX_WAIT_S and the call's timeout: still the dispatcher's to end.
    expect(recoveryFor(queued, { ...TIMING, now: T0 + 15_000, running: false }).action).toBe("resume");
    // A requeued generation (sent before, 429) is queued again: the same.
    const requeued = queuedRecord({ enqueued_at: T0, grants: 1, granted_at: T0 + 1, sent_at: T0 + 2 });
    expect(recoveryFor(requeued, { ...TIMING, now: T0 + 9_000, running: false }).action).toBe("resume");
    // With its run alive (its acquire pending): only re-armed.
    expect(recoveryFor(queued, { ...TIMING, now: T0 + 20_999, running: true })).toEqual({
      action: "wait",
      alarmAt: T0 + 21_999,
    });
    // Past the deadline the dispatcher has forgotten its expiry: it ends queue_timeout by itself.
    expect(recoveryFor(queued, { ...TIMING, now: T0 + 21_000, running: false }, true)).toEqual({ action: "timeout" });
    expect(recoveryFor(queued, { ...TIMING, now: T0 + 21_000, running: true })).toEqual({ action: "timeout" });
  });

  it("found by a fresh instance hours later: ends unsent, charged nothing, its key and hold freed", async () => {
    const before = await openHolds();
    const { gen, store, holdId } = await stored(
      {
        enqueued_at: Date.now() - 2 * HOUR,
      },
      true,
    );
    const view = (await gen.view()) as { status: string; error?: { code: string; message: string } } | null;
    expect(view?.status).toBe("failed");
    expect(view?.error?.code).toBe("queue_timeout");
    expect(view?.error?.message).toMatch(/nothing was charged/);
    const after = await openHolds();
    expect(after.holds).not.toContain(holdId);
    expect(after.spent).toBeCloseTo(before.spent);
    expect(await keyIsFree(store)).toBe(true);
  });
});

describe("create()", () => {
  it("arms the alarm at once, while queued: a restart before `sent` is still watched", async () => {
    const ns = env.TEST_GENERATIONS;
    const id = newGenerationId();
    const gen = ns.get(ns.idFromName(id));
    await gen.create(id, "gpt-image-1", { ...queuedRecord().spec, idempotency: undefined, budget: undefined });
    // TestGeneration's turn comes 300 ms late: the record is still queued here.
    await runInDurableObject(gen, async (_o, state) => {
      const record = state.storage.kv.get<GenerationRecord>("record");
      expect(record?.phase).toBe("queued");
      const alarm = await state.storage.getAlarm();
      expect(alarm).toBeGreaterThan(record?.enqueued_at ?? Number.POSITIVE_INFINITY);
      // Soon: a restart while queued costs the wait one interval at most (queuedCheckMs).
      expect(alarm).toBeLessThanOrEqual((record?.enqueued_at ?? 0) + 5_000);
    });
  });
});

describe("an ended record", () => {
  it("whose guards were never settled (a crash after the end was saved) is settled by the next instance", async () => {
    const before = await openHolds();
    const { gen, store, holdId } = await stored(
      {
        status: "failed",
        phase: "ended",
        ended_at: Date.now() - 1_000,
        error: { code: "generation_interrupted", message: "m", type: "server_error", request_id: "req_abc" },
        settle: { budget: "settle_estimate", idempotency: "release" },
      },
      true,
    );
    expect(((await gen.view()) as { status: string } | null)?.status).toBe("failed");
    const after = await openHolds();
    expect(after.holds).not.toContain(holdId);
    expect(after.spent).toBeCloseTo(before.spent + 0.05);
    expect(await keyIsFree(store)).toBe(true);
    await runInDurableObject(gen, async (_o, state) => {
      expect(state.storage.kv.get<GenerationRecord>("record")?.settle).toBeUndefined();
    });
    // Settled once: another fresh instance charges nothing more.
    await evictDurableObject(gen);
    await gen.view();
    expect((await openHolds()).spent).toBeCloseTo(before.spent + 0.05);
  });

  it("past its TTL frees its Idempotency-Key with it (GENERATION_TTL_HOURS below the key's 24 h)", async () => {
    const { gen, store } = await stored({
      status: "succeeded",
      phase: "ended",
      images: [],
      ended_at: Date.now() - 25 * HOUR,
    });
    expect(await gen.view()).toBeNull();
    expect(await keyIsFree(store)).toBe(true);
  });
});

describe("a queued generation whose dispatcher cannot be asked", () => {
  it("keeps waiting (never failed while the dispatcher may keep its place), its alarm armed to ask again", async () => {
    const ns = env.BROKEN_QUEUE_GENERATIONS;
    const id = newGenerationId();
    const gen = ns.get(ns.idFromName(id));
    await gen.create(id, "gpt-image-1", { ...queuedRecord().spec, idempotency: undefined, budget: undefined });
    // Its acquire broke through every retry: the run pauses; the record stays queued.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await runInDurableObject(gen, async (_o, state) => {
      const record = state.storage.kv.get<GenerationRecord>("record");
      expect({ status: record?.status, phase: record?.phase }).toEqual({ status: "queued", phase: "queued" });
      expect(await state.storage.getAlarm()).toBeLessThanOrEqual((record?.enqueued_at ?? 0) + 5_000);
    });
  });
});
