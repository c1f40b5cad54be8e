/**
 * The window's record (queue/window.ts) under heavy traffic, against a log of every call: its size
 * stays bounded whatever the rate, its count of images sent is never below the truth (so dispatch
 * never passes a limit) and at most one cell above it, and its count of successes never above.
 */
import { describe, expect, it } from "vitest";
import { heldMs, QUEUE_DEFAULTS, type QueueLimitsConfig } from "../../../../workers/app/src/queue/limits";
import {
  cellMs,
  countAnswered,
  countSent,
  emptyWindow,
  forget,
  inflightCount,
  sentImages,
  succeededImages,
  takeInflight,
} from "../../../../workers/app/src/queue/window";
import { random } from "../../../helpers/random";

type Truth = { at: number; images: number; end: "unsent" | "inflight" | "ok" | "failed" | "gone" };

/**
 * `calls` calls sent at random over `spanMs`, each answered 0–2 windows later: most succeed, some
 * fail with no answer (they count), some are refused or answered with an error (they leave).
 * Checks the record against the log after every event.
 */
function drive(cfg: QueueLimitsConfig, calls: number, spanMs: number, seed: number) {
  const rnd = random(seed);
  const held = heldMs(cfg);
  const cell = cellMs(cfg.windowMs);
  const w = emptyWindow();
  const log: Truth[] = [];
  const events: { at: number; run: () => void }[] = [];
  let inflight = 0;
  for (let i = 0; i < calls; i++) {
    const truth: Truth = { at: Math.floor(rnd() * spanMs), images: 1 + Math.floor(rnd() * 3), end: "unsent" };
    log.push(truth);
    const gen = `g${i}`;
    const answerAt = truth.at + Math.floor(rnd() * 2 * cfg.windowMs);
    const roll = rnd();
    const end = roll < 0.7 ? "ok" : roll < 0.85 ? "failed" : "gone";
    events.push({
      at: truth.at,
      run: () => {
        countSent(w, gen, truth.images, truth.at);
        truth.end = "inflight";
        inflight++;
      },
    });
    events.push({
      at: answerAt,
      run: () => {
        const call = takeInflight(w, gen);
        truth.end = end;
        inflight--;
        if (call && end !== "gone") countAnswered(w, call, end === "ok", cfg.windowMs, held, answerAt);
      },
    });
  }
  // Sends sort before answers at the same instant (an answer never precedes its call).
  events.sort((a, b) => a.at - b.at);
  log.sort((a, b) => a.at - b.at);
  let most = 0;
  let first = 0;
  for (const event of events) {
    event.run();
    const now = event.at;
    forget(w, held, now);
    most = Math.max(most, w.answered.length);
    while ((log[first]?.at ?? now) <= now - held - cell) first++;
    let [truth, slack, ok] = [0, 0, 0];
    for (let i = first; i < log.length && (log[i] as Truth).at <= now; i++) {
      const c = log[i] as Truth;
      if (c.end === "unsent" || c.end === "gone") continue;
      slack += c.images;
      if (c.at <= now - held) continue;
      truth += c.images;
      if (c.end === "ok") ok += c.images;
    }
    const counted = sentImages(w, held, now);
    // Checked with if-throw rather than expect: hundreds of thousands of checks.
    if (counted < truth) throw new Error(`at ${now}: counted ${counted} < sent ${truth}`);
    if (counted > slack) throw new Error(`at ${now}: counted ${counted} > sent within a cell more ${slack}`);
    if (succeededImages(w, held, now) > ok) throw new Error(`at ${now}: successes above the truth`);
    if (inflightCount(w) !== inflight) throw new Error(`at ${now}: in-flight calls lost`);
  }
  return { most, bound: Math.ceil(held / cell) + 1 };
}

describe("the window's record", () => {
  it.each([
    ["a minute, 100 calls a minute", { windowMs: 60_000 }, 1_000, 600_000, 20],
    ["a minute, 6 000 calls a minute", { windowMs: 60_000 }, 2_000, 20_000, 15],
    ["2 s (the bench's window), 300 calls a second", { windowMs: 2000 }, 3_000, 10_000, 50],
  ])("%s: bounded, never below the truth, at most one cell above it", (_name, over, calls, spanMs, filled) => {
    const cfg = { ...QUEUE_DEFAULTS, ...over };
    const { most, bound } = drive(cfg, calls, spanMs, calls);
    expect(bound).toBeLessThanOrEqual(64);
    expect(most).toBeLessThanOrEqual(bound);
    expect(most).toBeGreaterThanOrEqual(filled); // the traffic did fill the record that far
  });

  it("keeps calls sent in different cells apart, so sparse traffic is counted exactly", () => {
    const w = emptyWindow();
    const held = heldMs({ ...QUEUE_DEFAULTS });
    for (const [gen, at] of [
      ["a", 0],
      ["b", 1500],
    ] as const) {
      countSent(w, gen, 1, at);
      countAnswered(w, takeInflight(w, gen) as { at: number; images: number }, true, 60_000, held, at + 10);
    }
    expect(sentImages(w, held, held - 1)).toBe(2);
    expect(sentImages(w, held, held)).toBe(1); // a left on time
    expect(sentImages(w, held, held + 1500)).toBe(0);
  });
});
