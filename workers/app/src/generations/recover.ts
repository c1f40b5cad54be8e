/**
 * What a generation's object does when it wakes without a run in memory: a fresh instance
 * (constructor) or an alarm. Pure, so each phase is unit-tested (test/unit/app/generations/).
 *
 * - A run in this instance a whole timeout past its check is stuck: `interrupt` it too.
 * - `sent` or `storing` with no run in this instance: the instance that sent the call is gone (a
 *   pending call keeps its instance alive, and an object has one live instance), so the call's
 *   result is lost; it may have been billed, so it is never resent: `interrupt`. A `storing` run
 *   with images in R2 (storedAnswer) succeeds instead with those, charged at the estimate.
 * - `queued` or `granted` with no run: nothing was sent; start the run again (`resume`), unless
 *   it has waited past its deadline (queue wait + timeout + margin): then its hold is stale and
 *   nobody waits for it, so it ends failed, charged nothing (`abandon`), never sent hours late.
 * - `ended` with its guards not settled or the dispatcher not told yet (a crash between the end
 *   and those): `settle` (both).
 * - `ended`: the record stays for its TTL, then `expire` (the key released, then deleteAll).
 */
import { type AppConfig, DEFAULTS } from "../config";
import type { AppBindings } from "../env";
import { ApiError } from "../errors";
import { queueConfig } from "../queue/dispatcher-store";
import { type OutcomeRule, ruleFor } from "./outcome";
import type { GenerationAnswer, GenerationRecord } from "./types";

/** What to do now, and when to look again (epoch ms), if ever. */
export type Recovery =
  | { action: "interrupt" }
  | { action: "resume" }
  | { action: "abandon" }
  | { action: "settle" }
  | { action: "expire" }
  | { action: "wait"; alarmAt: number };

/** The timing a decision depends on. */
export interface RecoveryClock {
  now: number;
  /** Whether this instance runs the generation right now (then it is not interrupted). */
  running: boolean;
  /** UPSTREAM_TIMEOUT_MS */
  timeoutMs: number;
  /** GENERATION_TTL_HOURS in ms */
  ttlMs: number;
  /** QUEUE_MAX_WAIT_S in ms: how long a queued generation may wait for its turn (0 without a queue). */
  queueWaitMs?: number;
}

/** How long after UPSTREAM_TIMEOUT_MS the alarm waits for the run to end by itself: a tenth, 1-30 s. */
export function alarmMargin(timeoutMs: number): number {
  return Math.min(30_000, Math.max(1_000, Math.round(timeoutMs / 10)));
}

/** When the object must look at a record again, whoever calls or not. */
export function nextCheck(record: GenerationRecord, clock: Omit<RecoveryClock, "now" | "running">): number {
  if (record.phase === "ended") return (record.ended_at ?? 0) + clock.ttlMs;
  const since = record.sent_at ?? record.granted_at ?? record.enqueued_at + (clock.queueWaitMs ?? 0);
  return since + clock.timeoutMs + alarmMargin(clock.timeoutMs);
}

/**
 * The decision for `record` at `clock.now`. A fresh instance asks with `fresh: true` (no run can
 * be in memory) and acts at once; an alarm asks without it and acts only when the deadline passed.
 */
export function recoveryFor(record: GenerationRecord, clock: RecoveryClock, fresh = false): Recovery {
  if (record.phase === "ended") {
    if (record.settle || record.report) return { action: "settle" };
    const at = nextCheck(record, clock);
    return clock.now >= at ? { action: "expire" } : { action: "wait", alarmAt: at };
  }
  if (clock.running) {
    // The run in memory ends itself (its own timeout); look again later in case it cannot. A run
    // a whole timeout past its check is stuck (an R2 put ignores the deadline): interrupted.
    if (clock.now >= nextCheck(record, clock) + clock.timeoutMs) {
      return { action: record.phase === "sent" || record.phase === "storing" ? "interrupt" : "abandon" };
    }
    return { action: "wait", alarmAt: Math.max(nextCheck(record, clock), clock.now + alarmMargin(clock.timeoutMs)) };
  }
  if (record.phase === "sent" || record.phase === "storing") {
    if (fresh || clock.now >= nextCheck(record, clock)) return { action: "interrupt" };
    return { action: "wait", alarmAt: nextCheck(record, clock) };
  }
  return clock.now >= nextCheck(record, clock) ? { action: "abandon" } : { action: "resume" };
}

/** The error a generation interrupted mid-call ends with. */
function interrupted(): ApiError {
  return new ApiError(
    "generation_interrupted",
    "The server restarted while the image provider was working; this generation was not finished. It is not retried automatically: try again.",
  );
}

/** How a generation found past its deadline with no run, never sent, ends: failed, charged nothing, key released. */
export function abandonedEnd() {
  const error = new ApiError(
    "generation_interrupted",
    "The server restarted before this generation was sent; nothing was charged. It is not retried automatically: try again.",
  );
  return {
    result: { outcome: "failed_before_send" as const, error },
    rule: ruleFor("failed_before_send"),
    message: "Generation abandoned: past its deadline, never sent",
  };
}

/** QUEUE_MAX_WAIT_S in ms; undefined when the queue's settings are wrong (the app then refuses new generations). */
export function queueWaitOf(env: AppBindings): number | undefined {
  try {
    return queueConfig(env).maxWaitS * 1000;
  } catch {
    return undefined;
  }
}

/** The deadlines of recoveryFor from the settings; the defaults when the settings are wrong. */
export function timingOf(config: AppConfig | undefined, queueWaitMs?: number): Omit<RecoveryClock, "now" | "running"> {
  return {
    timeoutMs: config?.upstreamTimeoutMs ?? DEFAULTS.upstreamTimeoutMs,
    ttlMs: config?.generationTtlMs ?? DEFAULTS.generationTtlHours * 3_600_000,
    ...(queueWaitMs ? { queueWaitMs } : {}),
  };
}

/**
 * A `storing` record's answer with the images it named that are in R2 (usage unknown), or
 * undefined when none is: then the generation is interrupted and what was put stays until a lifecycle rule.
 */
export async function storedAnswer(bucket: R2Bucket, record: GenerationRecord): Promise<GenerationAnswer | undefined> {
  const stems = record.phase === "storing" ? (record.image_names ?? []) : [];
  if (stems.length === 0) return undefined;
  const found = await Promise.all(
    stems.map(async (stem) => (await bucket.list({ prefix: `images/${stem}.`, limit: 1 })).objects[0]?.key),
  );
  // Paid: the images that are there are answered, the rest counted as images_missing.
  const names = found.filter((key): key is string => key !== undefined);
  if (names.length === 0) return undefined;
  const images = names.map((key) => ({
    url: new URL(`/api/images/${key.slice("images/".length)}`, record.spec.origin).href,
  }));
  const asked = record.spec.request.n ?? 1;
  return {
    id: record.id,
    created: record.created,
    model: record.model,
    images,
    ...(asked > images.length ? { images_missing: asked - images.length } : {}),
  };
}

/**
 * How a generation whose owner died mid-call ends: succeeded when it was storing and every image
 * is in R2 (usage unknown: charged at the estimate), else generation_interrupted.
 */
export async function interruptedEnd(bucket: R2Bucket, record: GenerationRecord) {
  const stored = await storedAnswer(bucket, record);
  if (stored) {
    const rule: Readonly<OutcomeRule> = { ...ruleFor("succeeded"), budget: "settle_estimate" };
    return {
      result: { outcome: "succeeded" as const, answer: stored },
      rule,
      message: "Generation recovered: its owner died after storing its images",
    };
  }
  return {
    result: { outcome: "interrupted" as const, error: interrupted() },
    rule: ruleFor("interrupted"),
    message: "Generation interrupted: its call was in flight when its owner died",
  };
}
