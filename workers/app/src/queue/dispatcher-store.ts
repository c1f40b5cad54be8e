/**
 * What the dispatcher keeps in Durable Object storage, and how it reads and writes it: with the
 * synchronous KV API of a SQLite-backed object, so a change is written with no await, every write
 * of one turn commits together, and the output gate holds every reply until they are durable: no
 * caller hears of a grant or a place that a crash could take back.
 *
 * The state is split over keys by how often each part changes, so the common path (nobody waits)
 * writes little and nothing grows with the traffic:
 * - `dispatch:grant:<gen>`, one per call in flight: a grant with nobody waiting writes only this;
 * - `dispatch:limits`, the rate-limit state without its calls in flight (they are the grants):
 *   what was learned and the window's answered calls in at most ~62 cells (window.ts);
 * - `dispatch:queue`, the waiting entries, their round robin and recent expiries: written only
 *   when something waits or has just waited.
 */
import type { QueueLimitsConfig } from "../config";
import { type FairState, newQueue, type QueueEntry } from "./fairness";
import { heldMs, type LimitsState, newLimits } from "./limits";
import { countAnswered, type InflightCall } from "./window";

/** A generation allowed to send its call, kept until it reports back (`release`). */
export interface Grant {
  entry: QueueEntry;
  at: number;
}

/** The dispatcher's state in memory. */
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

/** What changed since the last write: the dispatcher marks it, `writeState` writes only that. */
export interface Dirty {
  grants: Set<string>;
  limits: boolean;
  queue: boolean;
}

/** Nothing changed. */
export const clean = (): Dirty => ({ grants: new Set(), limits: false, queue: false });

const LIMITS = "dispatch:limits";
const QUEUE = "dispatch:queue";
const GRANT = "dispatch:grant:";
/** The single value of the first layout (the whole state, rewritten on every call): read once, then split. */
const LEGACY = "dispatch";

type StoredLimits = Omit<LimitsState, "inflight">;
type StoredQueue = Pick<DispatchState, "fair" | "expired">;

/** The state saved last, or a fresh one. */
export function loadState(storage: DurableObjectStorage, cfg: QueueLimitsConfig, now: number): DispatchState {
  const legacy = storage.kv.get<LegacyState>(LEGACY);
  if (legacy) return fromLegacy(storage, legacy, cfg, now);
  const queue = storage.kv.get<StoredQueue>(QUEUE) ?? { fair: newQueue(), expired: {} };
  const granted: Record<string, Grant> = {};
  for (const [, grant] of storage.kv.list<Grant>({ prefix: GRANT })) granted[grant.entry.gen] = grant;
  const limits = { ...(storage.kv.get<StoredLimits>(LIMITS) ?? newLimits(now)), inflight: inflightOf(granted) };
  // A grant made with nobody waiting does not write the queue: its seq must not be given again.
  for (const { entry } of Object.values(granted)) queue.fair.nextSeq = Math.max(queue.fair.nextSeq, entry.seq + 1);
  return { ...queue, limits, granted };
}

/** Writes what `dirty` names (synchronous; see the file's comment). */
export function writeState(storage: DurableObjectStorage, s: DispatchState, dirty: Dirty): void {
  for (const gen of dirty.grants) {
    const grant = s.granted[gen];
    if (grant) storage.kv.put(GRANT + gen, grant);
    else storage.kv.delete(GRANT + gen);
  }
  if (dirty.limits) {
    const { inflight: _, ...stored } = s.limits;
    storage.kv.put(LIMITS, stored);
  }
  if (dirty.queue) storage.kv.put(QUEUE, { fair: s.fair, expired: s.expired });
}

/** The calls in flight, as the window counts them: one per grant. */
function inflightOf(granted: Record<string, Grant>): Record<string, InflightCall> {
  const inflight: Record<string, InflightCall> = {};
  for (const [gen, { entry, at }] of Object.entries(granted)) inflight[gen] = { at, images: entry.images };
  return inflight;
}

/** The first layout's state: the window kept every call sent, with its generation id. */
interface LegacyState extends Omit<DispatchState, "limits"> {
  limits: StoredLimits & { sent: { gen: string; at: number; images: number; state: string }[] };
}

/** Splits a state saved by the first layout (a deploy mid-queue keeps the queue and its order). */
function fromLegacy(storage: DurableObjectStorage, old: LegacyState, cfg: QueueLimitsConfig, now: number) {
  const { sent, ...rest } = old.limits;
  const limits: LimitsState = { ...rest, answered: [], inflight: inflightOf(old.granted) };
  for (const call of sent) {
    if (call.state !== "inflight") countAnswered(limits, call, call.state === "ok", cfg.windowMs, heldMs(cfg), now);
  }
  const s: DispatchState = { fair: old.fair, expired: old.expired, granted: old.granted, limits };
  writeState(storage, s, { grants: new Set(Object.keys(old.granted)), limits: true, queue: true });
  storage.kv.delete(LEGACY);
  return s;
}
