import { describe, expect, it } from "vitest";
import {
  failureOutcome,
  OUTCOMES,
  type Outcome,
  type OutcomeRule,
  ruleFor,
  settleAmount,
} from "../../../../workers/app/src/generations/outcome";

/** The §4 table of docs/design/durable-generations.md, written out independently of the code. */
const TABLE: Array<[Outcome, OutcomeRule]> = [
  [
    "succeeded",
    {
      status: "succeeded",
      budget: "settle_actual",
      idempotency: "complete",
      error: null,
    },
  ],
  [
    "failed_before_send",
    {
      status: "failed",
      budget: "settle_zero",
      idempotency: "release",
      error: "from_failure",
    },
  ],
  [
    "failed_definite_answer",
    {
      status: "failed",
      budget: "settle_zero",
      idempotency: "release",
      error: "from_failure",
    },
  ],
  [
    "failed_after_send",
    {
      status: "failed",
      budget: "settle_estimate",
      idempotency: "release",
      error: "from_failure",
    },
  ],
  [
    "interrupted",
    {
      status: "failed",
      budget: "settle_estimate",
      idempotency: "release",
      error: { code: "generation_interrupted", status: 502 },
    },
  ],
  [
    "cancelled",
    {
      status: "failed",
      budget: "settle_zero",
      idempotency: "release",
      error: { code: "cancelled", status: 409 },
    },
  ],
  [
    "queue_timeout",
    {
      status: "failed",
      budget: "settle_zero",
      idempotency: "release",
      error: { code: "queue_timeout", status: 503 },
    },
  ],
  [
    "queue_full",
    {
      status: "failed",
      budget: "settle_zero",
      idempotency: "release",
      error: { code: "queue_full", status: 503 },
    },
  ],
  [
    "rate_limited_requeued",
    {
      status: "queued",
      budget: "keep",
      idempotency: "keep",
      error: null,
    },
  ],
];

describe("the outcome table", () => {
  it.each(TABLE)("%s", (outcome, rule) => {
    expect(ruleFor(outcome)).toEqual(rule);
  });

  it("has no row the test does not know", () => {
    expect(Object.keys(OUTCOMES).sort()).toEqual(TABLE.map(([o]) => o).sort());
  });

  it("never charges a call that provably was not billed, always charges one that may have been", () => {
    // Sent without a definite answer, or cut off by a restart mid-call: OpenAI may have billed it.
    const mayBeBilled: Outcome[] = ["failed_after_send", "interrupted"];
    for (const [outcome, rule] of TABLE) {
      if (rule.status !== "failed") continue;
      expect(rule.budget).toBe(mayBeBilled.includes(outcome) ? "settle_estimate" : "settle_zero");
    }
  });

  it("releases the idempotency key on every failure, so the same key can try again", () => {
    for (const [, rule] of TABLE) if (rule.status === "failed") expect(rule.idempotency).toBe("release");
  });
});

describe("settleAmount", () => {
  it.each([
    ["settle_zero", { estimate: 0.2, actual: 0.05 }, 0],
    ["settle_estimate", { estimate: 0.2, actual: 0.05 }, 0.2],
    ["settle_actual", { estimate: 0.2, actual: 0.05 }, 0.05],
    // Usage is the bill even above the hold.
    ["settle_actual", { estimate: 0.2, actual: 0.3 }, 0.3],
    // A success without usage (recovered while storing) is charged its estimate.
    ["settle_actual", { estimate: 0.2 }, 0.2],
    ["keep", { estimate: 0.2 }, undefined],
  ] as const)("%s of %j is %s", (action, amounts, expected) => {
    expect(settleAmount(action, amounts)).toBe(expected);
  });
});

describe("failureOutcome", () => {
  it.each([
    [{ sent: false }, "failed_before_send"],
    [{ sent: false, answerStatus: 403 }, "failed_before_send"],
    [{ sent: true, answerStatus: 400 }, "failed_definite_answer"],
    [{ sent: true, answerStatus: 403 }, "failed_definite_answer"],
    [{ sent: true, answerStatus: 429 }, "failed_definite_answer"],
    [{ sent: true, answerStatus: 500 }, "failed_definite_answer"],
    [{ sent: true, answerStatus: 503 }, "failed_definite_answer"],
    [{ sent: true, answerStatus: 502 }, "failed_after_send"],
    [{ sent: true, answerStatus: 504 }, "failed_after_send"],
    [{ sent: true, answerStatus: 524 }, "failed_after_send"],
    [{ sent: true }, "failed_after_send"],
    // A 200 whose body was then cut, unreadable or undecodable: OpenAI did the work.
    [{ sent: true, answerStatus: 200 }, "failed_after_send"],
  ] as const)("%j is %s", (failure, expected) => {
    expect(failureOutcome(failure)).toBe(expected);
  });
});
