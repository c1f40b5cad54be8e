import { type ApiError, ERROR_CODES, type ErrorCode, errorEnvelope } from "../errors";
import type { OutcomeRule } from "./outcome";
import {
  answerOf,
  type GenerationAnswer,
  type GenerationError,
  type GenerationRecord,
  type GenerationSpec,
} from "./types";

/**
 * A generation's record at its two ends (created, ended) and as `wait()` reports it: the
 * object's bookkeeping, kept apart from its I/O.
 */

/** The record create() writes: queued, nothing sent. */
export function newRecord(id: string, model: string, spec: GenerationSpec, now: number): GenerationRecord {
  return {
    id,
    status: "queued",
    phase: "queued",
    created: Math.floor(now / 1000),
    model,
    spec,
    grants: 0,
    enqueued_at: now,
  };
}

/** What `Generation.wait()` resolves with: the answer, or the error envelope's inner object and its status. */
export type WaitResult =
  | { ok: true; answer: GenerationAnswer; route?: string }
  | { ok: false; error: GenerationError; status: number };

/** An ended record as wait() gives it; undefined while it runs. */
export function waitResultOf(record: GenerationRecord): WaitResult | undefined {
  if (record.status === "succeeded") return { ok: true, answer: answerOf(record), route: record.route };
  if (record.status === "failed" && record.error) {
    const status = ERROR_CODES[record.error.code as ErrorCode]?.status ?? 502;
    return { ok: false, error: record.error, status };
  }
  return undefined;
}

/** Marks `record` ended per `rule`, with the answer's fields or the error envelope's inner object. */
export function endRecord(
  record: GenerationRecord,
  rule: Readonly<OutcomeRule>,
  end: { answer: GenerationAnswer } | { error: ApiError },
): void {
  record.phase = "ended";
  record.status = rule.status === "succeeded" ? "succeeded" : "failed";
  record.ended_at = Date.now();
  record.settle = { budget: rule.budget, idempotency: rule.idempotency };
  if ("answer" in end) {
    const { answer } = end;
    // `created` stays the creation time: every view (queued, running, ended) shows one value.
    Object.assign(record, { images: answer.images, usage: answer.usage });
    if (answer.images_missing) record.images_missing = answer.images_missing;
  } else {
    record.error = errorEnvelope(end.error, record.spec.request_id).error;
  }
}
