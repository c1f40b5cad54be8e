/**
 * Recovery and the guards, in workerd: a queued record found past its deadline ends unsent
 * (charged nothing, key released) instead of being sent late; an ended record whose settle never
 * finished is settled by the next instance; an expired record frees its Idempotency-Key.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AppBindings } from "../../../../workers/app/src/env";
import { newGenerationId } from "../../../../workers/app/src/generations/id";
import type { Generation } from "../../../../workers/app/src/generations/object";
import { nextCheck, recoveryFor } from "../../../../workers/app/src/generations/recover";
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

describe("a queued record with no run", () => {
  it("resumes before its deadline (queue wait + timeout + margin), is abandoned after it", () => {
    const queued = queuedRecord({ enqueued_at: T0 });
    expect(nextCheck(queued, TIMING)).toBe(T0 + 10_000 + 3_000 + 1_000);
    expect(recoveryFor(queued, { ...TIMING, now: T0 + 13_999, running: false }, true)).toEqual({ action: "resume" });
    expect(recoveryFor(queued, { ...TIMING, now: T0 + 14_000, running: false }, true)).toEqual({ action: "abandon" });
    // A run in memory (waiting for its turn) is given a whole timeout more; stuck after that, it
    // is abandoned too (never sent, so never charged as interrupted).
    expect(recoveryFor(queued, { ...TIMING, now: T0 + 16_999, running: true }).action).toBe("wait");
    expect(recoveryFor(queued, { ...TIMING, now: T0 + 17_000, running: true })).toEqual({ action: "abandon" });
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
    expect(view?.error?.code).toBe("generation_interrupted");
    expect(view?.error?.message).toMatch(/before this generation was sent/);
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
