/**
 * How a generation ends, and what each ending does to the guards (docs/design/durable-generations.md
 * §4), as data: the Generation object looks the outcome up and does exactly that, so the billing
 * rules live in one table that a test checks row by row. Pure: no I/O.
 *
 * The rate-limit count taken at admission is kept in every row (as today for refused calls), so
 * it is not a column. Neither is what the dispatcher is told: that follows from whether a turn
 * was granted, not from the outcome (generations/runner.ts, turn.ts `releaseOutcome`); nor
 * whether the call may have been billed: the budget column says it (an estimate is charged
 * exactly when it may have been).
 */

/** Every way a generation can end (or, for `rate_limited_requeued`, leave `running` for now). */
export type Outcome =
  /** Stored: the images OpenAI returned are in R2 (those that could not be kept: images_missing). */
  | "succeeded"
  /** The call provably never left (no route could send it, a region block on every route). */
  | "failed_before_send"
  /** OpenAI answered with its own error (4xx, 500, 503, a 429 not requeued, a region block). */
  | "failed_definite_answer"
  /** Sent, and no definite answer: timeout, cut body, unreadable or undecodable answer, 502/504/524. */
  | "failed_after_send"
  /** A fresh instance or the alarm found phase `sent`: the owner died mid-call. */
  | "interrupted"
  /** DELETE while queued. */
  | "cancelled"
  /** Waited in the queue longer than QUEUE_MAX_WAIT_S. */
  | "queue_timeout"
  /** Refused at admission: the queue is at its bounds. */
  | "queue_full"
  /** A rate-limit 429 under the dispatcher: back to the head of its client's line, still open. */
  | "rate_limited_requeued";

/** What to charge against the budget hold: nothing, the worst-case estimate, or `usage`'s cost. */
export type BudgetAction = "settle_zero" | "settle_estimate" | "settle_actual" | "keep";

/**
 * What to do with the idempotency record: `release` lets the same key start a new generation
 * (nothing usable was produced), `complete` makes it point at this generation for its TTL.
 */
export type IdempotencyAction = "release" | "complete" | "keep";

/** A public error code an outcome always has; others take the code of the failure itself. */
export type OutcomeErrorCode = "generation_interrupted" | "queue_timeout" | "cancelled" | "queue_full";

/** One row of the table. */
export interface OutcomeRule {
  /** The status the record ends in (`queued` only for a requeue). */
  status: "succeeded" | "failed" | "queued";
  budget: BudgetAction;
  idempotency: IdempotencyAction;
  /** The record's error: a fixed code and HTTP status, `from_failure` (the ApiError's), or none. */
  error: { code: OutcomeErrorCode; status: number } | "from_failure" | null;
}

/** The §4 table. */
export const OUTCOMES: Readonly<Record<Outcome, Readonly<OutcomeRule>>> = {
  succeeded: {
    status: "succeeded",
    budget: "settle_actual",
    idempotency: "complete",
    error: null,
  },
  failed_before_send: {
    status: "failed",
    budget: "settle_zero",
    idempotency: "release",
    error: "from_failure",
  },
  failed_definite_answer: {
    status: "failed",
    budget: "settle_zero",
    idempotency: "release",
    error: "from_failure",
  },
  failed_after_send: {
    status: "failed",
    budget: "settle_estimate",
    idempotency: "release",
    error: "from_failure",
  },
  interrupted: {
    status: "failed",
    budget: "settle_estimate",
    idempotency: "release",
    error: { code: "generation_interrupted", status: 502 },
  },
  cancelled: {
    status: "failed",
    budget: "settle_zero",
    idempotency: "release",
    error: { code: "cancelled", status: 409 },
  },
  queue_timeout: {
    status: "failed",
    budget: "settle_zero",
    idempotency: "release",
    error: { code: "queue_timeout", status: 503 },
  },
  queue_full: {
    status: "failed",
    budget: "settle_zero",
    idempotency: "release",
    error: { code: "queue_full", status: 503 },
  },
  rate_limited_requeued: {
    status: "queued",
    budget: "keep",
    idempotency: "keep",
    error: null,
  },
};

/** The rule for an outcome. */
export function ruleFor(outcome: Outcome): Readonly<OutcomeRule> {
  return OUTCOMES[outcome];
}

/** The cost to settle the hold with, for a rule whose budget action settles. */
export function settleAmount(action: BudgetAction, amounts: { estimate: number; actual?: number }): number | undefined {
  if (action === "keep") return undefined;
  if (action === "settle_zero") return 0;
  if (action === "settle_estimate") return amounts.estimate;
  // Usage is the bill, even above the hold; without usage the estimate is the best we know.
  return amounts.actual ?? amounts.estimate;
}

/** Statuses of a gateway that sent the call on and got no answer: the call may have been billed. */
export const NO_ANSWER_STATUSES: readonly number[] = [502, 504, 524];

/**
 * Which failure outcome a failed run is; the one home of this rule (generations/run.ts). `sent`:
 * whether the call may have left (false only when egress proved it did not: an EgressFailure
 * whose mayBeBilled is false). `answerStatus`: the status of OpenAI's answer, if one came back.
 * Only an error answer from OpenAI itself is definite (nothing billed); a gateway's no-answer
 * status, no answer, or a 2xx whose body then failed (cut, unreadable, undecodable) may have
 * been billed.
 */
export function failureOutcome(failure: {
  sent: boolean;
  answerStatus?: number;
}): "failed_before_send" | "failed_definite_answer" | "failed_after_send" {
  if (!failure.sent) return "failed_before_send";
  const status = failure.answerStatus;
  if (status !== undefined && status >= 400 && !NO_ANSWER_STATUSES.includes(status)) return "failed_definite_answer";
  return "failed_after_send";
}
