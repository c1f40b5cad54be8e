/**
 * What a generation's object does when it wakes without a run in memory: a fresh instance
 * (constructor) or an alarm. Pure, so each phase is unit-tested (test/unit/app/generations/).
 *
 * - A run in this instance a whole timeout past its check is stuck: `interrupt` it too.
 * - `sent` or `storing` with no run in this instance: the instance that sent the call is gone (a
 *   pending call keeps its instance alive, and an object has one live instance), so the call's
 *   result is lost; it may have been billed, so it is never resent: `interrupt`. A `storing` run
 *   with images in R2 (storedAnswer) succeeds instead with those, charged at the estimate.
 * - `queued` or `granted` (nothing sent): the dispatcher decides how its wait ends, so the object
 *   asks it again by itself: every `queuedCheckMs` the alarm comes back; with no run in this
 *   instance (a restart took the run and its `acquire` with it) the run starts again (`resume`:
 *   `acquire` again, the same place, idempotent by id), with one alive it only re-arms (`wait`).
 *   `expired` ends it `queue_timeout`, nothing billed. Only past `queuedDeadline` (twice
 *   QUEUE_MAX_WAIT_S: the dispatcher holds an entry that long at most and remembers its expiry as
 *   long again, so past it an `acquire` could start a new wait and send hours late) it ends so by
 *   itself (`timeout`), and takes out any place left.
 * - `ended` with its guards not settled or the dispatcher not told yet (a crash between the end
 *   and those): `settle` (both).
 * - `ended`: the record stays for its TTL, then `expire` (the key released, then deleteAll).
 */
import { type AppConfig, DEFAULTS } from "../config";
import { ApiError } from "../errors";
import { type OutcomeRule, ruleFor } from "./outcome";
import type { GenerationAnswer, GenerationRecord } from "./types";

/** What to do now, and when to look again (epoch ms), if ever. */
export type Recovery =
  | { action: "interrupt" }
  | { action: "resume"; alarmAt: number }
  | { action: "timeout" }
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

/**
 * How often a queued generation's alarm comes back: a tenth of QUEUE_MAX_WAIT_S, 1 to 5 s. A
 * restart of its object (a deploy, a crash) then delays its wait by one interval at most (the
 * dispatcher grants only to generations that ask), a small part of the wait it may have; and it
 * costs one alarm (a wake and one write) per interval while it waits, at most 60 over the
 * default 300 s. A generation granted at once never sees it (`sent` moves the alarm).
 */
export function queuedCheckMs(clock: Pick<RecoveryClock, "queueWaitMs">): number {
  return Math.min(5_000, Math.max(1_000, Math.round((clock.queueWaitMs ?? 0) / 10)));
}

/**
 * The longest a generation stays queued: twice QUEUE_MAX_WAIT_S from its admission, plus the
 * margin. The dispatcher expires an entry after one wait and answers `expired` for as long again;
 * past this, the generation's own `queue_timeout` is the dispatcher's answer it can no longer hear.
 */
export function queuedDeadline(record: GenerationRecord, clock: Omit<RecoveryClock, "now" | "running">): number {
  return record.enqueued_at + queuedAtMostMs(clock);
}

const queuedAtMostMs = (clock: Omit<RecoveryClock, "now" | "running">) =>
  2 * (clock.queueWaitMs ?? 0) + alarmMargin(clock.timeoutMs);

/**
 * The longest a generation lives from admission to its end: its last turn is granted before
 * `queuedDeadline` (which counts from admission, so turns after rate-limit 429s are within it),
 * then its call ends by its timeout, or a stuck run is interrupted a whole timeout and the margin
 * later (recoveryFor). Its budget hold lasts this long and a margin (guard/budget-hold.ts).
 */
export function longestLifeMs(clock: Omit<RecoveryClock, "now" | "running">): number {
  return queuedAtMostMs(clock) + 2 * clock.timeoutMs + alarmMargin(clock.timeoutMs);
}

/** When the object must look at a record again, whoever calls or not (queued: its deadline). */
export function nextCheck(record: GenerationRecord, clock: Omit<RecoveryClock, "now" | "running">): number {
  if (record.phase === "ended") return (record.ended_at ?? 0) + clock.ttlMs;
  if (record.phase === "queued" || record.phase === "granted") return queuedDeadline(record, clock);
  const since = record.sent_at ?? record.granted_at ?? record.enqueued_at;
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
  if (record.phase === "queued" || record.phase === "granted") {
    if (clock.now >= queuedDeadline(record, clock)) return { action: "timeout" };
    const alarmAt = clock.now + queuedCheckMs(clock);
    return clock.running ? { action: "wait", alarmAt } : { action: "resume", alarmAt };
  }
  if (clock.running) {
    // The run in memory ends itself (its own timeout); look again later in case it cannot. A run
    // a whole timeout past its check is stuck (an R2 put ignores the deadline): interrupted.
    if (clock.now >= nextCheck(record, clock) + clock.timeoutMs) return { action: "interrupt" };
    return { action: "wait", alarmAt: Math.max(nextCheck(record, clock), clock.now + alarmMargin(clock.timeoutMs)) };
  }
  if (fresh || clock.now >= nextCheck(record, clock)) return { action: "interrupt" };
  return { action: "wait", alarmAt: nextCheck(record, clock) };
}

/** The error a generation interrupted mid-call ends with. */
function interrupted(): ApiError {
  return new ApiError(
    "generation_interrupted",
    "The server restarted while the image provider was working; this generation was not finished. It is not retried automatically: try again.",
  );
}

/** The deadlines of recoveryFor from the settings; the defaults when the settings are wrong. */
export function timingOf(config: AppConfig | undefined): Omit<RecoveryClock, "now" | "running"> {
  return {
    timeoutMs: config?.upstreamTimeoutMs ?? DEFAULTS.upstreamTimeoutMs,
    ttlMs: config?.generationTtlMs ?? DEFAULTS.generationTtlHours * 3_600_000,
    ...(config ? { queueWaitMs: config.queue.maxWaitS * 1000 } : {}),
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
