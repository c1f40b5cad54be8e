import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Generation } from "../../../../workers/app/src/generations/object";
import { alarmMargin, nextCheck, recoveryFor } from "../../../../workers/app/src/generations/recover";
import type { GenerationRecord } from "../../../../workers/app/src/generations/types";
import { queuedRecord } from "./fixtures";

const T0 = 1_790_000_000_000;
const TIMING = { timeoutMs: 3_000, ttlMs: 60_000 };
const at = (now: number, running = false) => ({ ...TIMING, now, running });
const sent = (overrides: Partial<GenerationRecord> = {}) =>
  queuedRecord({ status: "running", phase: "sent", grants: 1, granted_at: T0, sent_at: T0, ...overrides });

describe("recoveryFor, phase by phase", () => {
  it("queued or granted without a run: nothing was sent, so the run starts again, and the alarm comes back", () => {
    expect(recoveryFor(queuedRecord(), at(T0), true)).toEqual({ action: "resume", alarmAt: T0 + 1_000 });
    expect(recoveryFor(queuedRecord({ phase: "granted", status: "running" }), at(T0), true)).toEqual({
      action: "resume",
      alarmAt: T0 + 1_000,
    });
  });

  it("sent, found by a fresh instance: interrupted at once (the sender is gone)", () => {
    expect(recoveryFor(sent(), at(T0 + 10), true)).toEqual({ action: "interrupt" });
  });

  it("storing, found by a fresh instance: interrupted too (never resent: it may have been billed)", () => {
    expect(recoveryFor(sent({ phase: "storing" }), at(T0 + 10), true)).toEqual({ action: "interrupt" });
  });

  it("sent, alarm before the deadline: wait until sent_at + timeout + margin", () => {
    expect(recoveryFor(sent(), at(T0 + 10))).toEqual({ action: "wait", alarmAt: T0 + 3_000 + 1_000 });
  });

  it("sent, alarm after the deadline with no run in memory: interrupted", () => {
    expect(recoveryFor(sent(), at(T0 + 4_000))).toEqual({ action: "interrupt" });
  });

  it("a run still in this instance is not interrupted: look again later", () => {
    const decision = recoveryFor(sent(), at(T0 + 6_000, true));
    expect(decision).toEqual({ action: "wait", alarmAt: T0 + 6_000 + 1_000 });
  });

  it("a run in this instance a whole timeout past its check is stuck (a hung R2 put): interrupted", () => {
    expect(recoveryFor(sent(), at(T0 + 4_000 + 3_000, true))).toEqual({ action: "interrupt" });
    expect(recoveryFor(sent({ phase: "storing" }), at(T0 + 9_000, true))).toEqual({ action: "interrupt" });
  });

  it("ended with the dispatcher's report still owed (a crash after the end): settle, by a fresh instance or the alarm", () => {
    const ended = sent({ phase: "ended", status: "succeeded", ended_at: T0 + 5_000, report: { kind: "done" } });
    expect(recoveryFor(ended, at(T0 + 6_000), true)).toEqual({ action: "settle" });
    expect(recoveryFor(ended, at(T0 + 6_000))).toEqual({ action: "settle" });
    // Past the TTL too: the grant is freed before the record goes.
    expect(recoveryFor(ended, at(T0 + 65_000))).toEqual({ action: "settle" });
  });

  it("ended: kept for the TTL, then expired", () => {
    const ended = sent({ phase: "ended", status: "succeeded", ended_at: T0 + 5_000 });
    expect(recoveryFor(ended, at(T0 + 6_000), true)).toEqual({ action: "wait", alarmAt: T0 + 65_000 });
    expect(recoveryFor(ended, at(T0 + 65_000))).toEqual({ action: "expire" });
  });

  it("the margin is a tenth of the timeout, 1 to 30 s", () => {
    expect(alarmMargin(3_000)).toBe(1_000);
    expect(alarmMargin(120_000)).toBe(12_000);
    expect(alarmMargin(600_000)).toBe(30_000);
    expect(nextCheck(sent(), TIMING)).toBe(T0 + 4_000);
  });
});

describe("the Generation object in workerd", () => {
  const stub = () => {
    const ns = env.GENERATIONS as DurableObjectNamespace<Generation>;
    return ns.get(ns.newUniqueId());
  };

  it("an unknown generation has no view and 404s its events", async () => {
    const gen = stub();
    expect(await gen.view()).toBeNull();
    expect((await gen.fetch("https://generation/events")).status).toBe(404);
  });

  it("a fresh instance that finds phase sent ends it as generation_interrupted, never resent", async () => {
    const gen = stub();
    const record = sent({ spec: { ...queuedRecord().spec, idempotency: undefined, budget: undefined } });
    await runInDurableObject(gen, async (_o, state) => {
      state.storage.kv.put("record", record);
    });
    // The instance that wrote it goes away (a deploy, a crash); the next call meets a fresh one.
    await evictDurableObject(gen);
    const view = (await gen.view()) as { status: string; error?: { code: string } } | null;
    expect(view?.status).toBe("failed");
    expect(view?.error?.code).toBe("generation_interrupted");
    await runInDurableObject(gen, async (_o, state) => {
      const stored = state.storage.kv.get<GenerationRecord>("record");
      expect(stored?.phase).toBe("ended");
      // Its alarm now waits for the TTL, to delete the record.
      expect(await state.storage.getAlarm()).toBe((stored?.ended_at ?? 0) + 24 * 3_600_000);
    });
  });

  const storing = (stems: string[]) =>
    sent({
      phase: "storing",
      image_names: stems,
      spec: { ...queuedRecord().spec, request: { prompt: "a fox", n: 2 }, idempotency: undefined, budget: undefined },
    });

  async function recovered(record: GenerationRecord) {
    const gen = stub();
    await runInDurableObject(gen, async (_o, state) => {
      state.storage.kv.put("record", record);
    });
    await evictDurableObject(gen);
    return (await gen.view()) as { status: string; images?: Array<{ url: string }>; error?: { code: string } } | null;
  }

  it("storing, every image in R2: a fresh instance ends it succeeded with those images", async () => {
    const stems = ["a1".repeat(16), "b2".repeat(16)];
    await env.IMAGES.put(`images/${stems[0]}.png`, new Uint8Array([1]));
    await env.IMAGES.put(`images/${stems[1]}.webp`, new Uint8Array([2]));
    const view = await recovered(storing(stems));
    expect(view?.status).toBe("succeeded");
    expect(view?.images?.map((i) => i.url)).toEqual([
      `https://images.example/api/images/${stems[0]}.png`,
      `https://images.example/api/images/${stems[1]}.webp`,
    ]);
  });

  it("storing, an image missing from R2: succeeded with the one found, images_missing 1 (it was paid)", async () => {
    const stems = ["c3".repeat(16), "d4".repeat(16)];
    await env.IMAGES.put(`images/${stems[0]}.png`, new Uint8Array([1]));
    const view = (await recovered(storing(stems))) as { status: string; images_missing?: number } | null;
    expect(view?.status).toBe("succeeded");
    expect(view?.images_missing).toBe(1);
  });

  it("storing, no image in R2: generation_interrupted", async () => {
    const view = await recovered(storing(["e5".repeat(16), "f6".repeat(16)]));
    expect(view?.status).toBe("failed");
    expect(view?.error?.code).toBe("generation_interrupted");
  });
});
