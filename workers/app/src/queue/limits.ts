/**
 * When the queue may send, and how much: OpenAI limits images per minute per organisation, and
 * the limit is either configured (`OPENAI_IMAGES_PER_MINUTE`) or learned from its answers. The
 * window counts images by the time they were sent, as OpenAI counts them on arrival (window.ts
 * keeps that record bounded). Pure: time comes in as `now`, no timers, no I/O; the state is plain
 * data (kept in storage beside the queue) and functions change it in place.
 */
import { retryAfterMs } from "../../../shared/retry-after";
import type { QueueLimitsConfig } from "../config";
import { requestsResetMs } from "./reset-headers";
import {
  countAnswered,
  countSent,
  emptyWindow,
  forget,
  inflightCount,
  nextSlide,
  type SentWindow,
  sentImages,
  succeededImages,
  takeInflight,
} from "./window";

/** Settings, from the worker's env (config.ts). */
export type { QueueLimitsConfig } from "../config";

/** Defaults for the settings that have one (README settings table). */
export const QUEUE_DEFAULTS = { maxWaitS: 300, maxLength: 1000, windowMs: 60_000 } as const;

/** What the dispatcher persists for rate limiting, beside the queue: the window's record and what was learned. */
export interface LimitsState extends SentWindow {
  /** Images per window learned from a 429; null until one is seen. */
  learned: number | null;
  /** Largest count of images that all succeeded within one window: the probe's known-good level. */
  safe: number;
  blockedUntil: number;
  /** Last backoff used for a 429 without a wait hint; 0 after a success. */
  backoffMs: number;
  /** Since when no 429 was seen (or the learned limit last raised). */
  quietSince: number;
  /** Moving mean of call durations, for estimates without a known limit. */
  meanCallMs: number;
}

/** What came back for a granted call. */
export type CallOutcome =
  | { kind: "done"; headers?: Headers }
  | { kind: "failed"; status?: number; code?: string | null; headers?: Headers };

/** Gateway statuses with no answer from OpenAI behind them: the call may have made its images. */
const NO_IMAGE_UNKNOWN: readonly number[] = [502, 504, 524];
const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
/** A learned limit is tried one higher after this long without a 429 under load. */
const RAISE_AFTER_MS = 10 * 60_000;
/** A first guess at a generation's duration until one is measured. */
const DEFAULT_CALL_MS = 30_000;

/**
 * How long a call counts in the window: the window and a guard of a twentieth of it (at most
 * 1 s). A call is counted from its grant, OpenAI counts it from its arrival a little later; without
 * the guard a call granted as the window slides could arrive while OpenAI still counts the old
 * one, and get the 429 the queue exists to avoid.
 */
export function heldMs(cfg: QueueLimitsConfig): number {
  return cfg.windowMs + Math.min(1000, Math.round(cfg.windowMs / 20));
}

/** Fresh state: nothing sent, no limit learned, no block. */
export function newLimits(now: number): LimitsState {
  const meanCallMs = DEFAULT_CALL_MS;
  return { ...emptyWindow(), learned: null, safe: 0, blockedUntil: 0, backoffMs: 0, quietSince: now, meanCallMs };
}

/** The limit in force: the configured one, else the learned one, else null (probe). */
export function currentLimit(s: LimitsState, cfg: QueueLimitsConfig): number | null {
  return cfg.imagesPerMinute ?? s.learned;
}

/** Images sent within the trailing window, in flight or answered (429'd calls are not kept). */
export function windowImages(s: LimitsState, cfg: QueueLimitsConfig, now: number): number {
  return sentImages(s, heldMs(cfg), now);
}

/**
 * Images that may be granted now: 0 = none, Infinity = any one call. An empty window always
 * admits a call, so a lone request never waits and a request larger than the limit is not
 * starved. Without a known limit, one call may go beyond the known-good level at a time (a
 * linear probe), so finding the limit costs at most one 429.
 */
export function grantCapacity(s: LimitsState, cfg: QueueLimitsConfig, now: number): number {
  forget(s, heldMs(cfg), now);
  if (now < s.blockedUntil) return 0;
  const inflight = inflightCount(s);
  if (cfg.maxConcurrent !== undefined && inflight >= cfg.maxConcurrent) return 0;
  const used = windowImages(s, cfg, now);
  if (used === 0) return Number.POSITIVE_INFINITY;
  const limit = currentLimit(s, cfg);
  if (limit !== null) return Math.max(0, limit - used);
  // Probing: up to the known-good level, or one call when none is in flight (the last one ended
  // without a 429; a failure says nothing about the limit and must not stall the queue a window).
  return used <= s.safe || inflight === 0 ? Number.POSITIVE_INFINITY : 0;
}

/** Counts a granted call in the window (call right after `nextGrant` returned it). */
export function recordGrant(s: LimitsState, gen: string, images: number, now: number): void {
  countSent(s, gen, images, now);
}

/**
 * Learns from a granted call's answer. Returns `requeue: true` for a rate-limit 429 (never
 * `insufficient_quota`, which waiting does not fix) whose wait fits in QUEUE_MAX_WAIT_S: nothing
 * was billed, and the generation goes back to the head of its client's line (`requeueAtHead`).
 */
export function recordOutcome(
  s: LimitsState,
  gen: string,
  outcome: CallOutcome,
  cfg: QueueLimitsConfig,
  now: number,
): { requeue: boolean } {
  const call = takeInflight(s, gen);
  // Blocks before any 429 when the answer says the next call would be refused.
  const reset = outcome.headers ? requestsResetMs(outcome.headers) : undefined;
  if (reset !== undefined) s.blockedUntil = Math.max(s.blockedUntil, now + reset);
  if (outcome.kind === "failed" && outcome.status === 429 && outcome.code !== "insufficient_quota") {
    // OpenAI did not take the call: it left the window (taken above) and is counted again when resent.
    const hinted = outcome.headers ? retryAfterMs(outcome.headers, now) : undefined;
    // A wait longer than anyone may queue (an absurd hint, a day's limit) is not the per-minute
    // limit: that generation gets OpenAI's answer and its Retry-After; nothing is learned from it.
    if (hinted !== undefined && hinted > cfg.maxWaitS * 1000) return { requeue: false };
    s.learned = learnedAfter429(s.learned, succeeded(s, cfg, now));
    s.quietSince = now;
    s.backoffMs = hinted === undefined ? Math.min(MAX_BACKOFF_MS, s.backoffMs ? s.backoffMs * 2 : MIN_BACKOFF_MS) : 0;
    s.blockedUntil = Math.max(s.blockedUntil, now + (hinted ?? s.backoffMs));
    return { requeue: true };
  }
  if (!call) return { requeue: false };
  const status = outcome.kind === "failed" ? (outcome.status ?? 0) : 0;
  if (status >= 400 && !NO_IMAGE_UNKNOWN.includes(status)) {
    // OpenAI answered with an error (a 400, a region block, a 500): no image was made to count.
    return { requeue: false };
  }
  countAnswered(s, call, outcome.kind === "done", cfg.windowMs, heldMs(cfg), now);
  s.meanCallMs = Math.round(s.meanCallMs * 0.8 + Math.max(0, now - call.at) * 0.2);
  if (outcome.kind === "done") {
    s.backoffMs = 0;
    const ok = succeeded(s, cfg, now);
    s.safe = Math.max(s.safe, ok);
    if (s.learned !== null) {
      // Seen to succeed: the limit is at least this. Quiet and full for long: try one more.
      s.learned = Math.max(s.learned, ok);
      if (now - s.quietSince >= RAISE_AFTER_MS && windowImages(s, cfg, now) >= s.learned) {
        s.learned++;
        s.quietSince = now;
      }
    }
  }
  return { requeue: false };
}

/**
 * The learned limit after a rate-limit 429, given the images that succeeded in the window. The
 * first finds the limit where the window stood. Later ones mean less room than was learned
 * (another user of the key, a lower tier, or a raise that went one too far): the limit is
 * halved, but never below what OpenAI just let through in one window. A 429 in a quiet window
 * does not cut a limit of 30 to 1 (climbing back would take hours), and repeated 429s still
 * bring it down quickly; a raise that failed goes back to the window's successes.
 */
export function learnedAfter429(learned: number | null, succeededInWindow: number): number {
  if (learned === null) return Math.max(1, succeededInWindow);
  return Math.max(1, succeededInWindow, Math.floor(learned / 2));
}

/** When capacity may next grow on its own (block ends, window slides): the dispatcher's alarm. */
export function wakeAt(s: LimitsState, cfg: QueueLimitsConfig, now: number): number | null {
  const slide = nextSlide(s, heldMs(cfg), now);
  const block = s.blockedUntil > now ? s.blockedUntil : null;
  if (slide === null || block === null) return slide ?? block;
  return Math.min(slide, block);
}

/** Images sent within the window that have succeeded (never more than the truth: window.ts). */
function succeeded(s: LimitsState, cfg: QueueLimitsConfig, now: number): number {
  return succeededImages(s, heldMs(cfg), now);
}
