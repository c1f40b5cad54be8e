/**
 * What a waiting generation is told: its estimated wait, and whether it may wait at all
 * (`queue_full`); and the queue's figures. Pure, like limits.ts, whose state it reads.
 */
import { MAX_RETRY_AFTER_MS } from "../../../shared/retry-after";
import type { DispatchState } from "./dispatcher-store";
import { type Ahead, size } from "./fairness";
import { currentLimit, grantCapacity, type LimitsState, type QueueLimitsConfig, wakeAt, windowImages } from "./limits";
import type { DispatchStats } from "./rpc-types";
import { inflightCount } from "./window";

/**
 * Estimated wait in whole seconds for an entry with `ahead` before it: images ahead ÷ limit ×
 * window + the remaining block; without a known limit, position × mean call time ÷ calls in flight.
 */
export function estimateWaitS(s: LimitsState, cfg: QueueLimitsConfig, now: number, ahead: Ahead): number {
  const block = Math.max(0, s.blockedUntil - now);
  const limit = currentLimit(s, cfg);
  if (limit !== null) return Math.ceil((block + (ahead.images / limit) * cfg.windowMs) / 1000);
  const inflight = inflightCount(s);
  if (inflight === 0 && ahead.requests === 0) return Math.ceil(block / 1000);
  return Math.ceil((block + ((ahead.requests + 1) * s.meanCallMs) / Math.max(1, inflight)) / 1000);
}

/**
 * Admission of a new generation that would wait behind `waiting`: refused as `queue_full` when
 * the queue is at `maxLength` or the estimate passes `maxWaitS`, with a Retry-After of the
 * estimate (when the queue ahead should have drained), 1 s to an hour.
 */
export function admit(
  s: LimitsState,
  cfg: QueueLimitsConfig,
  now: number,
  waiting: Ahead,
): { ok: true; etaS: number } | { ok: false; retryAfterS: number } {
  const etaS = estimateWaitS(s, cfg, now, waiting);
  if (waiting.requests < cfg.maxLength && etaS <= cfg.maxWaitS) return { ok: true, etaS };
  return { ok: false, retryAfterS: Math.min(MAX_RETRY_AFTER_MS / 1000, Math.max(1, etaS)) };
}

/**
 * The estimate for an entry with `ahead` before it as the dispatcher reports it: with the window
 * full, nothing moves before it slides, so the wait is at least until then.
 */
export function waitFor(s: LimitsState, cfg: QueueLimitsConfig, now: number, ahead: Ahead): number {
  const slides = grantCapacity(s, cfg, now) === 0 ? (wakeAt(s, cfg, now) ?? now) - now : 0;
  return Math.max(estimateWaitS(s, cfg, now, ahead), Math.ceil(slides / 1000));
}

/** The queue's figures for `stats` (tests, health): sizes, the limit in force and any block. */
export function statsOf(s: DispatchState, cfg: QueueLimitsConfig, now: number): DispatchStats {
  const waiting = size(s.fair);
  return {
    queued: waiting.requests,
    queuedImages: waiting.images,
    inflight: Object.keys(s.granted).length,
    windowImages: windowImages(s.limits, cfg, now),
    limit: currentLimit(s.limits, cfg),
    learned: s.limits.learned,
    blockedUntil: s.limits.blockedUntil,
  };
}
