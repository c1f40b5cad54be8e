import { describe, expect, it } from "vitest";
import {
  currentLimit,
  grantCapacity,
  heldMs,
  type LimitsState,
  newLimits,
  QUEUE_DEFAULTS,
  type QueueLimitsConfig,
  recordGrant,
  recordOutcome,
  wakeAt,
  windowImages,
} from "../../../../workers/app/src/queue/limits";
import { parseResetDuration, requestsResetMs } from "../../../../workers/app/src/queue/reset-headers";

const T0 = 1_800_000_000_000;
const cfg = (over: Partial<QueueLimitsConfig> = {}): QueueLimitsConfig => ({ ...QUEUE_DEFAULTS, ...over });
const rateLimited = (headers: Record<string, string> = {}) =>
  ({ kind: "failed", status: 429, code: "rate_limit_exceeded", headers: new Headers(headers) }) as const;
const done = { kind: "done" } as const;

/** Sends one call now and answers it `after` ms later with `outcome`. */
function call(s: LimitsState, c: QueueLimitsConfig, gen: string, at: number, images = 1) {
  recordGrant(s, gen, images, at);
  return {
    answer: (outcome: Parameters<typeof recordOutcome>[2], after = 1000) =>
      recordOutcome(s, gen, outcome, c, at + after),
  };
}

describe("limits: the window", () => {
  it("counts images by send time over the trailing window, against the configured limit", () => {
    const c = cfg({ imagesPerMinute: 5 });
    const s = newLimits(T0);
    call(s, c, "a", T0, 3).answer(done);
    expect(windowImages(s, c, T0 + 1000)).toBe(3);
    expect(grantCapacity(s, c, T0 + 1000)).toBe(2);
    // Counted for the window and its guard (1 s: OpenAI counts from arrival, a little later).
    expect(heldMs(c)).toBe(61_000);
    expect(grantCapacity(s, c, T0 + 60_999)).toBe(2);
    // Left the window: empty again, and an empty window admits any one call.
    expect(grantCapacity(s, c, T0 + 61_000)).toBe(Number.POSITIVE_INFINITY);
    expect(s).toMatchObject({ inflight: {}, answered: [] }); // forgotten, not only uncounted
  });

  it("grants a head larger than the limit when the window is empty (no starvation), then nothing", () => {
    const c = cfg({ imagesPerMinute: 2 });
    const s = newLimits(T0);
    expect(grantCapacity(s, c, T0)).toBe(Number.POSITIVE_INFINITY);
    recordGrant(s, "big", 8, T0);
    expect(grantCapacity(s, c, T0)).toBe(0);
  });

  it("MAX_CONCURRENT_GENERATIONS caps calls in flight, even when they left the window", () => {
    const c = cfg({ maxConcurrent: 2 });
    const s = newLimits(T0);
    recordGrant(s, "a", 1, T0);
    recordGrant(s, "b", 1, T0);
    expect(grantCapacity(s, c, T0 + 120_000)).toBe(0);
    recordOutcome(s, "a", done, c, T0 + 120_000);
    expect(grantCapacity(s, c, T0 + 120_000)).toBe(Number.POSITIVE_INFINITY);
  });

  it("wakeAt names when capacity grows: the block's end or the oldest send leaving the window", () => {
    const c = cfg({ windowMs: 5000 });
    const s = newLimits(T0);
    expect(wakeAt(s, c, T0)).toBeNull();
    recordGrant(s, "a", 1, T0);
    expect(wakeAt(s, c, T0 + 10)).toBe(T0 + 5250); // the window and its guard of a twentieth
    s.blockedUntil = T0 + 2000;
    expect(wakeAt(s, c, T0 + 10)).toBe(T0 + 2000);
  });
});

describe("limits: learning from 429s", () => {
  it("a 429 asking for a longer wait than QUEUE_MAX_WAIT_S is not requeued and blocks nothing", () => {
    const c = cfg({ maxWaitS: 300 });
    const s = newLimits(T0);
    call(s, c, "a", T0).answer(done);
    expect(call(s, c, "b", T0 + 100).answer(rateLimited({ "retry-after": "3600" }), 100)).toEqual({ requeue: false });
    expect(s.blockedUntil).toBe(0);
    expect(s.learned).toBeNull(); // a day's limit says nothing about the minute's
  });

  it("a rate-limit 429 blocks for retry-after-ms, learns the images that succeeded, and asks to requeue", () => {
    const c = cfg();
    const s = newLimits(T0);
    call(s, c, "a", T0).answer(done);
    call(s, c, "b", T0 + 100, 2).answer(done);
    const third = call(s, c, "c", T0 + 200);
    expect(third.answer(rateLimited({ "retry-after-ms": "2500", "retry-after": "3" }), 100)).toEqual({ requeue: true });
    expect(s.blockedUntil).toBe(T0 + 300 + 2500);
    expect(s.learned).toBe(3);
    expect(currentLimit(s, c)).toBe(3);
    expect(grantCapacity(s, c, T0 + 2799)).toBe(0);
    // The refused call left the window: three succeeded images fill the learned limit.
    expect(windowImages(s, c, T0 + 2800)).toBe(3);
    expect(grantCapacity(s, c, T0 + 2800)).toBe(0);
    // a and b were sent within one cell (window.ts): they leave together at b's time, never earlier.
    expect(grantCapacity(s, c, T0 + 61_099)).toBe(0);
    expect(grantCapacity(s, c, T0 + 61_100)).toBe(Number.POSITIVE_INFINITY);
  });

  it("without a wait hint, backs off 1, 2, 4 … 60 s, and a success resets it", () => {
    const c = cfg();
    const s = newLimits(T0);
    const waits: number[] = [];
    let now = T0;
    for (let i = 0; i < 8; i++) {
      recordGrant(s, `g${i}`, 1, now);
      recordOutcome(s, `g${i}`, rateLimited(), c, now);
      waits.push(s.blockedUntil - now);
      now = s.blockedUntil;
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    call(s, c, "ok", now).answer(done);
    expect(s.backoffMs).toBe(0);
  });

  it("never learns from insufficient_quota, and never from other failures", () => {
    const c = cfg();
    const s = newLimits(T0);
    const quota = {
      kind: "failed",
      status: 429,
      code: "insufficient_quota",
      headers: new Headers({ "retry-after": "9" }),
    } as const;
    expect(call(s, c, "q", T0).answer(quota)).toEqual({ requeue: false });
    expect(call(s, c, "e", T0).answer({ kind: "failed", status: 500 })).toEqual({ requeue: false });
    expect(s.learned).toBeNull();
    expect(s.blockedUntil).toBe(0);
    // OpenAI answered both with an error: no image was made, nothing stays in the window.
    expect(s).toMatchObject({ inflight: {}, answered: [] });
    // A gateway's 502/504/524 or no answer at all: the call may have made its images; it counts,
    // but not as a success.
    call(s, c, "g", T0).answer({ kind: "failed", status: 502 });
    call(s, c, "t", T0).answer({ kind: "failed" });
    expect(windowImages(s, c, T0 + 1000)).toBe(2);
    expect(s.answered).toEqual([{ from: T0, to: T0, images: 2, ok: 0 }]);
  });

  it("x-ratelimit-remaining-requests: 0 blocks until the reset, on any answer", () => {
    const c = cfg();
    const s = newLimits(T0);
    const headers = new Headers({ "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m30.5s" });
    call(s, c, "a", T0).answer({ kind: "done", headers }, 0);
    expect(s.blockedUntil).toBe(T0 + 90_500);
    expect(grantCapacity(s, c, T0 + 90_499)).toBe(0);
    expect(s.learned).toBeNull();
  });

  it("the probe: without a known limit, one call at a time beyond what is known to succeed", () => {
    const c = cfg({ windowMs: 5000 });
    const s = newLimits(T0);
    expect(grantCapacity(s, c, T0)).toBe(Number.POSITIVE_INFINITY);
    recordGrant(s, "a", 1, T0);
    expect(grantCapacity(s, c, T0)).toBe(0);
    recordOutcome(s, "a", done, c, T0 + 1000);
    expect(s.safe).toBe(1);
    expect(grantCapacity(s, c, T0 + 1000)).toBe(Number.POSITIVE_INFINITY);
    recordGrant(s, "b", 1, T0 + 1000);
    expect(grantCapacity(s, c, T0 + 1000)).toBe(0);
    recordOutcome(s, "b", done, c, T0 + 2000);
    expect(s.safe).toBe(2);
  });

  it("the probe goes on after a failed call (not a 429) instead of stalling for a window", () => {
    const c = cfg({ windowMs: 5000 });
    const s = newLimits(T0);
    recordGrant(s, "a", 1, T0);
    expect(grantCapacity(s, c, T0 + 10)).toBe(0);
    recordOutcome(s, "a", { kind: "failed", status: 500 }, c, T0 + 1000);
    expect(s.safe).toBe(0);
    // Nothing in flight: one more call may go, and only one.
    expect(grantCapacity(s, c, T0 + 1000)).toBe(Number.POSITIVE_INFINITY);
    recordGrant(s, "b", 1, T0 + 1000);
    expect(grantCapacity(s, c, T0 + 1000)).toBe(0);
  });

  it("a later 429 halves the learned limit, never below what just succeeded in one window", () => {
    const c = cfg();
    const s = newLimits(T0);
    // A busy minute: 5 images succeed within one window, and a 429 finds the limit there.
    for (let i = 0; i < 5; i++) call(s, c, `busy${i}`, T0 + i * 2000).answer(done);
    call(s, c, "busy5", T0 + 10_000).answer(rateLimited({ "retry-after": "1" }));
    expect(currentLimit(s, c)).toBe(5);
    // Half an hour later, a quiet minute: one image succeeds, then a 429 (another user of the
    // key): the limit is halved (2), not cut to the quiet window's 1.
    const later = T0 + 30 * 60_000;
    call(s, c, "quiet0", later).answer(done);
    call(s, c, "quiet1", later + 5000).answer(rateLimited({ "retry-after": "1" }));
    expect(currentLimit(s, c)).toBe(2);
    // A window that let 3 through and then a 429: not below those 3.
    const busy = later + 5 * 60_000;
    for (let i = 0; i < 3; i++) call(s, c, `again${i}`, busy + i * 1000).answer(done);
    call(s, c, "again3", busy + 4000).answer(rateLimited({ "retry-after": "1" }));
    expect(currentLimit(s, c)).toBe(3);
  });

  it("a learned limit rises with what is seen to succeed, and by one after 10 quiet minutes at the limit", () => {
    const c = cfg();
    const s = newLimits(T0);
    call(s, c, "a", T0).answer(rateLimited({ "retry-after": "1" }), 0);
    expect(s.learned).toBe(1);
    call(s, c, "b", T0 + 1000).answer(done, 0);
    call(s, c, "c", T0 + 1000).answer(done, 0);
    expect(s.learned).toBe(2);
    const later = T0 + 11 * 60_000;
    call(s, c, "d", later).answer(done, 0);
    expect(s.learned).toBe(2);
    call(s, c, "e", later).answer(done, 0);
    expect(s.learned).toBe(3);
  });
});

describe("reset headers", () => {
  it.each([
    ["6m0s", 360_000],
    ["1s", 1000],
    ["20ms", 20],
    ["1m30.5s", 90_500],
    ["0.5s", 500],
    ["2h", 3_600_000],
    [" 3s ", 3000],
  ])("parses %j as %d ms", (text, ms) => {
    expect(parseResetDuration(text)).toBe(ms);
  });

  it.each(["", "soon", "5", "-1s", "1x", "1.2.3s", "s", "1s-"])("refuses %j", (text) => {
    expect(parseResetDuration(text)).toBeUndefined();
  });

  it("reads a block only when no requests remain", () => {
    const h = (o: Record<string, string>) => new Headers(o);
    expect(requestsResetMs(h({ "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20ms" }))).toBe(
      20,
    );
    expect(
      requestsResetMs(h({ "x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": "20ms" })),
    ).toBeUndefined();
    expect(requestsResetMs(h({ "x-ratelimit-remaining-requests": "0" }))).toBeUndefined();
  });
});
