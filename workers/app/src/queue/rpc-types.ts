/** What crosses the dispatcher's RPC boundary (queue/dispatcher.ts): plain data only. */

/**
 * A release's outcome as it crosses RPC: plain data, headers as a record. `final`: the
 * generation will not ask again (its last turn), so a rate-limit 429 is learned from but not
 * requeued; otherwise a grant made to its requeued entry would never be released.
 */
export type ReleaseOutcome = (
  | { kind: "done"; headers?: Record<string, string> }
  | { kind: "failed"; status?: number; code?: string | null; headers?: Record<string, string> }
) & { final?: boolean };

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
