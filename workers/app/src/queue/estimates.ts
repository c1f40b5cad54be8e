/**
 * What a waiting generation is told: its estimated wait, and whether it may wait at all
 * (`queue_full`); and the queue's figures. Pure, like limits.ts, whose state it reads.
 */
import { MAX_RETRY_AFTER_MS } from "../../../shared/retry-after";
import type { DispatchState } from "./dispatcher-store";
import { type Ahead, entries, type FairState, positions, size } from "./fairness";
import { currentLimit, heldMs, type LimitsState, type QueueLimitsConfig, windowImages } from "./limits";
import type { DispatchStats } from "./rpc-types";
import { inflightCount } from "./window";

/** An estimated wait in whole seconds; `known` when it rests on a known limit, not on a guess. */
export type Estimate = { etaS: number; known: boolean };

/**
 * The estimated wait of a request for `own` images with `ahead` before it: the one estimate the
 * queue gives (`position`) and admits by (`admit`).
 *
 * With a known limit: until the images the window still counts, those ahead and its own fit
 * under the limit, every image ahead sent as soon as the window lets it (so a window that is
 * full, or short behind a full one, counts), after any block. Without one (probing) the rate is
 * not known: position × mean call time ÷ calls in flight, a guess (`known: false`).
 */
export function estimateWait(s: LimitsState, cfg: QueueLimitsConfig, now: number, ahead: Ahead, own: number): Estimate {
  const start = Math.max(now, s.blockedUntil);
  const limit = currentLimit(s, cfg);
  if (limit === null) {
    const inflight = inflightCount(s);
    if (inflight === 0 && ahead.requests === 0) return { etaS: Math.ceil((start - now) / 1000), known: false };
    const calls = ((ahead.requests + 1) * s.meanCallMs) / Math.max(1, inflight);
    return { etaS: Math.ceil((start - now + calls) / 1000), known: false };
  }
  const held = heldMs(cfg);
  const sent = sendTimes(s, held, now);
  // Its images go when the image `k` places before the end leaves the window (1-based, in send
  // order: the window's, then those ahead); a request larger than the limit needs it empty.
  const k = sent.length + ahead.images - limit + Math.min(own, limit);
  if (k <= 0) return { etaS: Math.ceil((start - now) / 1000), known: true };
  // Image k is sent a window after image k - limit left room for it, and so on down to one the
  // window holds (or none: sent at the start).
  let at = k;
  let windows = 0;
  for (; at > sent.length; at -= limit) windows++;
  let t = at >= 1 ? (sent[at - 1] as number) : Number.NEGATIVE_INFINITY;
  for (let i = 0; i <= windows; i++) t = Math.max(start, t + held);
  return { etaS: Math.ceil((t - now) / 1000), known: true };
}

/**
 * Admission of a new generation for `own` images that would wait behind `waiting`: refused as
 * `queue_full` at `maxLength`, or when a known limit puts its wait past `maxWaitS` (a guess
 * made while probing does not refuse anyone: the wait is still bounded, by expiry), with a
 * Retry-After of the estimate, 1 s to an hour.
 */
export function admit(
  s: LimitsState,
  cfg: QueueLimitsConfig,
  now: number,
  waiting: Ahead,
  own: number,
): { ok: true; etaS: number } | { ok: false; retryAfterS: number } {
  const { etaS, known } = estimateWait(s, cfg, now, waiting, own);
  if (waiting.requests < cfg.maxLength && !(known && etaS > cfg.maxWaitS)) return { ok: true, etaS };
  return { ok: false, retryAfterS: Math.min(MAX_RETRY_AFTER_MS / 1000, Math.max(1, etaS)) };
}

/** Each waiting entry's place (what is ahead of it) and its images. */
export type Places = Map<string, { ahead: Ahead; images: number }>;

/** The places of every waiting entry, in one replay of the round robin (fairness.ts `positions`). */
export function placesOf(fair: FairState): Places {
  const images = new Map(entries(fair).map((e) => [e.gen, e.images]));
  return new Map([...positions(fair)].map(([gen, ahead]) => [gen, { ahead, images: images.get(gen) ?? 1 }]));
}

/** Place (1-based) and estimated wait of a waiting generation; null when it is not waiting. */
export function placeOf(places: Places, s: LimitsState, cfg: QueueLimitsConfig, now: number, gen: string) {
  const place = places.get(gen);
  if (!place) return null;
  return { position: place.ahead.requests + 1, etaS: estimateWait(s, cfg, now, place.ahead, place.images).etaS };
}

/** When each image the window counts was sent, oldest first (a cell's at its latest call: window.ts). */
function sendTimes(s: LimitsState, held: number, now: number): number[] {
  const times: number[] = [];
  for (const call of Object.values(s.inflight))
    if (call.at > now - held) times.push(...Array(call.images).fill(call.at));
  for (const c of s.answered) if (c.to > now - held) times.push(...Array(c.images).fill(c.to));
  return times.sort((a, b) => a - b);
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
