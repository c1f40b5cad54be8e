/**
 * Review of issue 16: what a rate-limit 429 teaches the queue without OPENAI_IMAGES_PER_MINUTE.
 * limits.ts fixes the learned limit at the images that succeeded in the current window, even
 * when the queue has already seen more succeed within one window (`safe`): a 429 that is not
 * about our images per minute (another user of the key, README "A 429 anyway") then cuts the
 * queue's rate to what happened to be in the window, and it climbs back by one image per
 * 10 minutes under full load.
 */
import { describe, expect, it } from "vitest";
import {
  currentLimit,
  type LimitsState,
  newLimits,
  QUEUE_DEFAULTS,
  type QueueLimitsConfig,
  recordGrant,
  recordOutcome,
} from "../../../../workers/app/src/queue/limits";

const T0 = 1_800_000_000_000;
const cfg: QueueLimitsConfig = { ...QUEUE_DEFAULTS };
const done = { kind: "done" } as const;
const rateLimited = {
  kind: "failed",
  status: 429,
  code: "rate_limit_exceeded",
  headers: new Headers({ "retry-after": "1" }),
} as const;

function sendAndAnswer(s: LimitsState, gen: string, at: number, outcome: typeof done | typeof rateLimited): void {
  recordGrant(s, gen, 1, at);
  recordOutcome(s, gen, outcome, cfg, at + 1000);
}

describe("review: the learned limit after a 429", () => {
  it("is not set below what the queue has already seen succeed within one window", async () => {
    const s = newLimits(T0);
    // A busy minute: 5 images succeed within one window, and a 429 finds the limit there.
    for (let i = 0; i < 5; i++) sendAndAnswer(s, `busy${i}`, T0 + i * 2000, done);
    sendAndAnswer(s, "busy5", T0 + 10_000, rateLimited);
    expect(currentLimit(s, cfg)).toBe(5);
    // Half an hour later, a quiet minute: one image succeeds, then a 429 (another user of the key).
    const later = T0 + 30 * 60_000;
    sendAndAnswer(s, "quiet0", later, done);
    sendAndAnswer(s, "quiet1", later + 5000, rateLimited);
    // OpenAI has let 5 images through in one window: the limit is not 1.
    expect(currentLimit(s, cfg)).toBeGreaterThanOrEqual(5);
  });
});
