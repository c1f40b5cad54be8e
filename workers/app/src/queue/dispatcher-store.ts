/**
 * What the dispatcher keeps in Durable Object storage, and how it reads and writes it. The whole
 * state is one value written with the synchronous KV API of a SQLite-backed object: one write per
 * change, no await, and the output gate holds every reply until that write is durable, so no
 * caller hears of a grant or a place that a crash could take back.
 */
import * as z from "zod/mini";
import { perEnv } from "../../../shared/per-env";
import type { AppBindings } from "../env";
import { queueSettings } from "../settings";
import { type FairState, newQueue, type QueueEntry, remove } from "./fairness";
import { type LimitsState, newLimits, type QueueLimitsConfig, recordOutcome, wakeAt } from "./limits";

/** A generation allowed to send its call, kept until it reports back (`release`). */
export interface Grant {
  entry: QueueEntry;
  at: number;
}

/** The dispatcher's persisted state. */
export interface DispatchState {
  fair: FairState;
  limits: LimitsState;
  /** Granted and not yet released, by generation id. */
  granted: Record<string, Grant>;
  /**
   * Generations that expired in the queue, by id, with when: an `acquire` retried after a
   * restart must hear `expired` rather than start a new wait at the back.
   */
  expired: Record<string, number>;
}

const KEY = "dispatch";

/** The state saved last, or a fresh one. */
export function loadState(storage: DurableObjectStorage, now: number): DispatchState {
  return storage.kv.get<DispatchState>(KEY) ?? { fair: newQueue(), limits: newLimits(now), granted: {}, expired: {} };
}

/** Saves the whole state (one synchronous write; see the file's comment). */
export function saveState(storage: DurableObjectStorage, state: DispatchState): void {
  storage.kv.put(KEY, state);
}

/**
 * A grant whose generation never reported back (it died) is taken back after this long, so it
 * cannot hold a concurrency slot for ever. Longer than any call may run (UPSTREAM_TIMEOUT_MS is
 * 5 minutes by default, plus egress retries).
 */
export const STALE_GRANT_MS = 15 * 60_000;

/**
 * Takes out entries that waited `maxWaitS` (returned: they end as `queue_timeout`, nothing
 * billed), takes back stale grants as failed calls, and forgets expiries older than one wait.
 */
export function sweep(s: DispatchState, cfg: QueueLimitsConfig, now: number): string[] {
  const maxWaitMs = cfg.maxWaitS * 1000;
  for (const [gen, at] of Object.entries(s.expired)) if (at <= now - maxWaitMs) delete s.expired[gen];
  const expired: string[] = [];
  for (const entry of s.fair.ring.flatMap((l) => l.entries)) {
    if (entry.enqueuedAt > now - maxWaitMs) continue;
    remove(s.fair, entry.gen);
    s.expired[entry.gen] = now;
    expired.push(entry.gen);
  }
  for (const [gen, grant] of Object.entries(s.granted)) {
    if (grant.at > now - STALE_GRANT_MS) continue;
    delete s.granted[gen];
    recordOutcome(s.limits, gen, { kind: "failed" }, cfg, now);
  }
  return expired;
}

/**
 * When the dispatcher must look again without being called: capacity may grow (a block ends, the
 * window slides), the oldest entry expires, or a grant goes stale. Null while nothing waits.
 */
export function nextAlarm(s: DispatchState, cfg: QueueLimitsConfig, now: number): number | null {
  const entries = s.fair.ring.flatMap((l) => l.entries);
  if (entries.length === 0) return null;
  const times = entries.map((e) => e.enqueuedAt + cfg.maxWaitS * 1000);
  times.push(wakeAt(s.limits, cfg, now) ?? Number.POSITIVE_INFINITY);
  for (const grant of Object.values(s.granted)) times.push(grant.at + STALE_GRANT_MS);
  return Math.max(now + 1, Math.min(...times));
}

const schema = z.object(queueSettings());

/**
 * The queue's settings from the worker's env, parsed once per env object (a generation's clock
 * reads them on its hot path). A wrong value throws: the app refuses requests with
 * `config_error` before they reach the dispatcher (config.ts parses the same settings).
 */
export const queueConfig: (env: AppBindings) => QueueLimitsConfig = perEnv((env) => {
  const s = z.parse(schema, env);
  return {
    imagesPerMinute: s.OPENAI_IMAGES_PER_MINUTE,
    maxConcurrent: s.MAX_CONCURRENT_GENERATIONS,
    maxWaitS: s.QUEUE_MAX_WAIT_S,
    maxLength: s.QUEUE_MAX_LENGTH,
    windowMs: s.QUEUE_WINDOW_S * 1000,
  };
});

/** A release's outcome as it crosses RPC: plain data, headers as a record. */
export type ReleaseOutcome =
  | { kind: "done"; headers?: Record<string, string> }
  | { kind: "failed"; status?: number; code?: string | null; headers?: Record<string, string> };

/** What `acquire` answers: send now, wait elsewhere (queue full), or give up (expired, cancelled). */
export type AcquireResult =
  | { granted: true }
  | { full: true; retryAfterS: number }
  | { expired: true }
  | { cancelled: true };

/** What `enter` answers: `acquire`'s answers, or waiting with its place (1-based) and estimate. */
export type EnterResult = AcquireResult | { queued: true; position: number; etaS: number };

/** The queue's figures for tests and health checks; no client identities. */
export interface DispatchStats {
  queued: number;
  queuedImages: number;
  inflight: number;
  windowImages: number;
  limit: number | null;
  learned: number | null;
  blockedUntil: number;
}
