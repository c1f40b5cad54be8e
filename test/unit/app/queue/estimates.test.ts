import { describe, expect, it } from "vitest";
import { admit, estimateWait } from "../../../../workers/app/src/queue/estimates";
import {
  newLimits,
  QUEUE_DEFAULTS,
  type QueueLimitsConfig,
  recordGrant,
  recordOutcome,
} from "../../../../workers/app/src/queue/limits";

const T0 = 1_800_000_000_000;
const cfg = (over: Partial<QueueLimitsConfig> = {}): QueueLimitsConfig => ({ ...QUEUE_DEFAULTS, ...over });
const ahead = (images: number) => ({ requests: images, images });

/** A state whose window holds one answered image per send time in `at`. */
function sentAt(...at: number[]) {
  const s = newLimits(T0);
  for (const [i, t] of at.entries()) {
    recordGrant(s, `g${i}`, 1, t);
    recordOutcome(s, `g${i}`, { kind: "done" }, cfg(), t);
  }
  return s;
}

describe("estimates: the wait until the window, those ahead and its own fit under a known limit", () => {
  it("an empty window: at once (after any block) while they fit; a window later when they do not", () => {
    const s = newLimits(T0);
    const c = cfg({ imagesPerMinute: 6 });
    expect(estimateWait(s, c, T0, ahead(5), 1)).toEqual({ etaS: 0, known: true });
    s.blockedUntil = T0 + 5000;
    expect(estimateWait(s, c, T0, ahead(5), 1).etaS).toBe(5);
    // Six sent when the block ends; the seventh when the first leaves (61 s: window and guard).
    expect(estimateWait(s, c, T0, ahead(6), 1).etaS).toBe(66);
    expect(estimateWait(s, c, T0, ahead(12), 1).etaS).toBe(127);
  });

  it("counts the images already in the window: a window short behind a full one", () => {
    const c = cfg({ imagesPerMinute: 2 });
    const s = sentAt(T0, T0 + 30_000);
    const now = T0 + 30_000;
    expect(estimateWait(s, c, now, ahead(0), 1).etaS).toBe(31); // when the first leaves
    expect(estimateWait(s, c, now, ahead(1), 1).etaS).toBe(61); // when the second leaves
    // Third behind the full window: the two ahead go as the window's two leave, then a window.
    expect(estimateWait(s, c, now, ahead(2), 1).etaS).toBe(92);
    // Two images at once need two places: when the second of the window's leaves.
    expect(estimateWait(s, c, now, ahead(0), 2).etaS).toBe(61);
    // Larger than the limit: an empty window.
    expect(estimateWait(s, c, now, ahead(0), 5).etaS).toBe(61);
  });

  it("counts calls still in flight by their send time", () => {
    const s = newLimits(T0);
    recordGrant(s, "a", 1, T0);
    expect(estimateWait(s, cfg({ imagesPerMinute: 1 }), T0 + 1000, ahead(0), 1).etaS).toBe(60);
  });
});

describe("estimates: without a known limit (probing)", () => {
  it("position × mean call time ÷ calls in flight, a guess; 0 when nothing is ahead or running", () => {
    const c = cfg();
    const s = newLimits(T0);
    expect(estimateWait(s, c, T0, ahead(0), 1)).toEqual({ etaS: 0, known: false });
    recordGrant(s, "a", 1, T0);
    recordGrant(s, "b", 1, T0);
    // Default mean 30 s, two in flight, third in line: 3 × 30 / 2.
    expect(estimateWait(s, c, T0, ahead(2), 1)).toEqual({ etaS: 45, known: false });
  });
});

describe("estimates: admission", () => {
  it("with a known limit: admits within both bounds; past either, queue_full with the estimate as Retry-After, 1 s to an hour", () => {
    const s = newLimits(T0);
    expect(admit(s, cfg({ imagesPerMinute: 6 }), T0, ahead(10), 1)).toEqual({ ok: true, etaS: 61 });
    // The 41st image goes in the seventh window: 6 × 61 s.
    expect(admit(s, cfg({ imagesPerMinute: 6 }), T0, ahead(40), 1)).toEqual({ ok: false, retryAfterS: 366 });
    expect(admit(s, cfg({ imagesPerMinute: 1 }), T0, ahead(999), 1)).toEqual({ ok: false, retryAfterS: 3600 });
    expect(admit(s, cfg({ imagesPerMinute: 60, maxLength: 1 }), T0, { requests: 1, images: 0 }, 1)).toEqual({
      ok: false,
      retryAfterS: 1,
    });
  });

  it("a full window past QUEUE_MAX_WAIT_S refuses even with nobody waiting", () => {
    const s = sentAt(T0, T0);
    expect(admit(s, cfg({ imagesPerMinute: 2, maxWaitS: 30 }), T0, ahead(0), 1)).toEqual({
      ok: false,
      retryAfterS: 61,
    });
  });

  it("while probing refuses only at QUEUE_MAX_LENGTH: a guess from the assumed call time turns nobody away", () => {
    const s = newLimits(T0);
    recordGrant(s, "probe", 1, T0);
    // 11 ahead × 30 s (assumed) with one call in flight: 360 s, over the default 300 s.
    expect(admit(s, cfg(), T0, ahead(11), 1)).toEqual({ ok: true, etaS: 360 });
    expect(admit(s, cfg({ maxLength: 11 }), T0, ahead(11), 1)).toEqual({ ok: false, retryAfterS: 360 });
  });
});
