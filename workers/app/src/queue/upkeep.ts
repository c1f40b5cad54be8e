/**
 * The dispatcher's housekeeping, done when it dispatches (something waits, or the alarm rang):
 * queue timeouts, grants whose generation never reported back, and when to look again. None of it
 * matters while nothing waits: a stale grant only holds a concurrency slot, which is taken back
 * by the first dispatch that needs it, and an expiry is only remembered for a retried `acquire`.
 */
import type { DispatchState } from "./dispatcher-store";
import { remove } from "./fairness";
import { type QueueLimitsConfig, recordOutcome, wakeAt } from "./limits";

/**
 * A grant whose generation never reported back (it died) is taken back after this long, so it
 * cannot hold a concurrency slot for ever. Longer than any call may run (UPSTREAM_TIMEOUT_MS is
 * 5 minutes by default, plus egress retries).
 */
export const STALE_GRANT_MS = 15 * 60_000;

/**
 * Takes out entries that waited `maxWaitS` (`expired`: they end as `queue_timeout`, nothing
 * billed), takes back stale grants as failed calls (`takenBack`), and forgets expiries older than
 * one wait.
 */
export function sweep(
  s: DispatchState,
  cfg: QueueLimitsConfig,
  now: number,
): { expired: string[]; takenBack: string[] } {
  const maxWaitMs = cfg.maxWaitS * 1000;
  for (const [gen, at] of Object.entries(s.expired)) if (at <= now - maxWaitMs) delete s.expired[gen];
  const expired: string[] = [];
  for (const entry of s.fair.ring.flatMap((l) => l.entries)) {
    if (entry.enqueuedAt > now - maxWaitMs) continue;
    remove(s.fair, entry.gen);
    s.expired[entry.gen] = now;
    expired.push(entry.gen);
  }
  const takenBack: string[] = [];
  for (const [gen, grant] of Object.entries(s.granted)) {
    if (grant.at > now - STALE_GRANT_MS) continue;
    delete s.granted[gen];
    recordOutcome(s.limits, gen, { kind: "failed" }, cfg, now);
    takenBack.push(gen);
  }
  return { expired, takenBack };
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
