/**
 * What a generation's object does when it wakes without a run in memory: a fresh instance
 * (constructor) or an alarm. Pure, so each phase is unit-tested (test/unit/app/generations/).
 *
 * - `sent` or `storing` with no run in this instance: the instance that sent the call is gone (a
 *   pending call keeps its instance alive, and an object has one live instance), so the call's
 *   result is lost; it may have been billed, so it is never resent: `interrupt`. (Images already
 *   put by a `storing` run are not looked for: they stay in R2 as orphans until a lifecycle rule.)
 * - `queued` or `granted` with no run: nothing was sent; start the run again (`resume`).
 * - `ended`: the record stays for its TTL, then `expire` (deleteAll).
 */
import { type AppConfig, DEFAULTS } from "../config";
import { ApiError } from "../errors";
import type { GenerationRecord } from "./types";

/** What to do now, and when to look again (epoch ms), if ever. */
export type Recovery =
  | { action: "interrupt" }
  | { action: "resume" }
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
}

/** How long after UPSTREAM_TIMEOUT_MS the alarm waits for the run to end by itself: a tenth, 1-30 s. */
export function alarmMargin(timeoutMs: number): number {
  return Math.min(30_000, Math.max(1_000, Math.round(timeoutMs / 10)));
}

/** When the object must look at a record again, whoever calls or not. */
export function nextCheck(record: GenerationRecord, clock: Omit<RecoveryClock, "now" | "running">): number {
  if (record.phase === "ended") return (record.ended_at ?? 0) + clock.ttlMs;
  const since = record.sent_at ?? record.granted_at ?? record.enqueued_at;
  return since + clock.timeoutMs + alarmMargin(clock.timeoutMs);
}

/**
 * The decision for `record` at `clock.now`. A fresh instance asks with `fresh: true` (no run can
 * be in memory) and acts at once; an alarm asks without it and acts only when the deadline passed.
 */
export function recoveryFor(record: GenerationRecord, clock: RecoveryClock, fresh = false): Recovery {
  if (record.phase === "ended") {
    const at = nextCheck(record, clock);
    return clock.now >= at ? { action: "expire" } : { action: "wait", alarmAt: at };
  }
  if (clock.running) {
    // The run in memory ends itself (its own timeout); look again later in case it cannot.
    return { action: "wait", alarmAt: Math.max(nextCheck(record, clock), clock.now + alarmMargin(clock.timeoutMs)) };
  }
  if (record.phase === "sent" || record.phase === "storing") {
    if (fresh || clock.now >= nextCheck(record, clock)) return { action: "interrupt" };
    return { action: "wait", alarmAt: nextCheck(record, clock) };
  }
  return { action: "resume" };
}

/** The error a generation interrupted mid-call ends with. */
export function interrupted(): ApiError {
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
  };
}
