import { DurableObject } from "cloudflare:workers";
import { queueConfig } from "../config";
import type { AppBindings } from "../env";
import { clean, type Dirty, type DispatchState, loadState, writeState } from "./dispatcher-store";
import { admit, type Places, placeOf, placesOf, statsOf } from "./estimates";
import * as fairness from "./fairness";
import { type CallOutcome, grantCapacity, type QueueLimitsConfig, recordGrant, recordOutcome } from "./limits";
import type { AcquireResult, DispatchStats, EnterResult, ReleaseOutcome } from "./rpc-types";
import { nextAlarm, sweep } from "./upkeep";

export type { AcquireResult, DispatchStats, EnterResult, ReleaseOutcome } from "./rpc-types";

/**
 * The fair queue in front of OpenAI's rate limits, one object per deployment
 * (`DISPATCH.idFromName("openai")`). Pull model: a `Generation` asks (`acquire`), reports back
 * (`release`) and polls (`position`); the dispatcher never calls generations, so it never waits
 * on one. Every method is idempotent by generation id, so a caller whose RPC broke (a restart of
 * this object resets its in-memory waiters) calls again and finds its place unchanged.
 */
export class Dispatcher extends DurableObject<AppBindings> {
  #loaded: DispatchState | undefined;
  /** What changed since the last write: each RPC writes only that (dispatcher-store.ts). */
  #dirty: Dirty = clean();
  /** Callers waiting for a grant, by id: memory only (after a restart they call again). */
  #waiters = new Map<string, ((r: AcquireResult) => void)[]>();
  #alarmAt: number | null = null;
  /** The waiting entries' places, built once per change (every watched generation polls its own). */
  #places: Places | undefined;
  #config: QueueLimitsConfig | undefined;

  /** The state, read from storage on first use (a wrong setting fails that RPC, not the object). */
  get #state(): DispatchState {
    this.#loaded ??= loadState(this.ctx.storage, this.config(), this.now());
    return this.#loaded;
  }

  /** The clock; tests override it to move time without sleeping. */
  protected now(): number {
    return Date.now();
  }

  /** The settings, parsed once (vars change only with a deploy, which restarts the object). */
  protected config(): QueueLimitsConfig {
    this.#config ??= queueConfig(this.env);
    return this.#config;
  }

  /**
   * Resolves when generation `gen` of `client` may send its call for `images` images. With
   * nothing waiting and room in the window it answers in the same turn with one small write;
   * otherwise it waits its fair turn, or is refused as `full` when the queue is long or slow.
   */
  async acquire(gen: string, client: string, images: number): Promise<AcquireResult> {
    const now = this.now();
    const decided = this.#admit(gen, client, images, now);
    if (decided) return decided;
    const answer = new Promise<AcquireResult>((resolve) => {
      this.#waiters.set(gen, [...(this.#waiters.get(gen) ?? []), resolve]);
    });
    await this.#dispatch(now, this.config(), gen);
    return answer;
  }

  /**
   * `acquire` without the wait: granted, refused, or `queued` with its place. A generation calls
   * it once before its POST is answered (so `full` can be the POST's 503), then `acquire` to wait.
   */
  async enter(gen: string, client: string, images: number): Promise<EnterResult> {
    const now = this.now();
    const decided = this.#admit(gen, client, images, now);
    if (decided) return decided;
    await this.#dispatch(now, this.config(), gen);
    if (this.#state.granted[gen]) return { granted: true };
    const place = await this.position(gen);
    return place ? { queued: true, ...place } : { granted: true };
  }

  /** What `acquire` can answer at once; null when the generation now waits in the queue. */
  #admit(gen: string, client: string, images: number, now: number): AcquireResult | null {
    const [s, cfg] = [this.#state, this.config()];
    if (!Number.isInteger(images) || images < 1) throw new RangeError("images must be an integer ≥ 1");
    if (s.granted[gen]) return { granted: true };
    if (s.expired[gen] !== undefined) return { expired: true };
    if (s.fair.ring.length > 0 && fairness.find(s.fair, gen)) return null;
    const waiting = fairness.size(s.fair);
    if (waiting.requests === 0 && grantCapacity(s.limits, cfg, now) >= images) {
      // The lean path: nobody to be fair to, so no round robin, no sweep, no alarm, and one small
      // write (the grant's key); the seq keeps its meaning (loadState never gives it again).
      this.#grant({ gen, client, images, seq: s.fair.nextSeq++, enqueuedAt: now }, now);
      this.#write();
      return { granted: true };
    }
    const admission = admit(s.limits, cfg, now, waiting, images);
    if (!admission.ok) return { full: true, retryAfterS: admission.retryAfterS };
    fairness.enqueue(s.fair, { gen, client, images }, now);
    this.#dirty.queue = true;
    return null;
  }

  /** Place (1-based) and estimated wait of a waiting generation; null when it is not waiting. */
  async position(gen: string): Promise<{ position: number; etaS: number } | null> {
    this.#places ??= placesOf(this.#state.fair);
    return placeOf(this.#places, this.#state.limits, this.config(), this.now(), gen);
  }

  /**
   * A granted generation reports how its call went. A rate-limit 429 puts it back at the head of
   * its client's line (`requeued`: call `acquire` again) unless the outcome is `final`; anything
   * else frees its slot. A retried release changes nothing. With nobody waiting it only writes
   * the call's end: there is nothing to grant, and housekeeping (upkeep.ts) waits for the next
   * dispatch, where it matters.
   */
  async release(gen: string, outcome: ReleaseOutcome): Promise<{ requeued: true } | { released: true }> {
    const s = this.#state;
    const grant = s.granted[gen];
    // A retried release answers as the first did: a requeued generation is waiting again.
    if (!grant) return s.fair.ring.length > 0 && fairness.find(s.fair, gen) ? { requeued: true } : { released: true };
    const [now, cfg] = [this.now(), this.config()];
    delete s.granted[gen];
    this.#dirty.grants.add(gen);
    this.#dirty.limits = true;
    const headers = outcome.headers ? new Headers(outcome.headers) : undefined;
    const { final, ...call } = outcome;
    const requeue = recordOutcome(s.limits, gen, { ...call, headers } as CallOutcome, cfg, now).requeue && !final;
    if (requeue) fairness.requeueAtHead(s.fair, grant.entry);
    if (s.fair.ring.length > 0) await this.#dispatch(now, cfg);
    else this.#write();
    return requeue ? { requeued: true } : { released: true };
  }

  /** Takes a waiting generation out of the queue: true when it was waiting (nothing was sent). */
  async cancel(gen: string): Promise<boolean> {
    const removed = fairness.remove(this.#state.fair, gen);
    if (!removed) return false;
    this.#settle(gen, { cancelled: true });
    await this.#dispatch(this.now(), this.config());
    return true;
  }

  /** Figures for tests and health: sizes, the limit in force and any block. */
  async stats(): Promise<DispatchStats> {
    return statsOf(this.#state, this.config(), this.now());
  }

  /** Time moved on: a block ended, the window slid, or a waiting entry is due to expire. */
  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    await this.#dispatch(this.now(), this.config());
  }

  /**
   * Expires old entries, takes back stale grants, grants in fair order while capacity allows,
   * writes once, answers the granted waiters and sets the alarm for the next change. Grants go
   * only to generations there to send: one with an `acquire` waiting here, or `caller` (whose
   * `enter`/`acquire` this is). Others (after a restart, before they ask again) are passed over
   * and keep their place: a grant nobody reads would be counted in the window and held in flight
   * for nothing, and the clients coming back later would then all send at once.
   */
  async #dispatch(now: number, cfg: QueueLimitsConfig, caller?: string): Promise<void> {
    const s = this.#state;
    const { expired, takenBack } = sweep(s, cfg, now);
    for (const gen of expired) this.#settle(gen, { expired: true });
    for (const gen of takenBack) this.#dirty.grants.add(gen);
    for (;;) {
      const entry = fairness.nextGrant(s.fair, grantCapacity(s.limits, cfg, now), this.#present(caller));
      if (!entry) break;
      this.#grant(entry, now);
      this.#settle(entry.gen, { granted: true });
    }
    Object.assign(this.#dirty, { queue: true, limits: true });
    this.#write();
    await this.#schedule(now, cfg);
  }

  /** Whether a generation is there to send: asking now, or waiting here for its `acquire`. */
  #present(caller: string | undefined): (gen: string) => boolean {
    return (gen) => gen === caller || this.#waiters.has(gen);
  }

  /** Counts a grant in the window and remembers it until its release. */
  #grant(entry: fairness.QueueEntry, now: number): void {
    recordGrant(this.#state.limits, entry.gen, entry.images, now);
    this.#state.granted[entry.gen] = { entry, at: now };
    this.#dirty.grants.add(entry.gen);
  }

  /** Writes what changed, before any await (dispatcher-store.ts); every change of the queue ends here. */
  #write(): void {
    this.#places = undefined;
    writeState(this.ctx.storage, this.#state, this.#dirty);
    this.#dirty = clean();
  }

  /** Answers everyone waiting on `gen`. */
  #settle(gen: string, result: AcquireResult): void {
    for (const resolve of this.#waiters.get(gen) ?? []) resolve(result);
    this.#waiters.delete(gen);
  }

  /** Sets the alarm for the next change (`nextAlarm`); none while nothing waits. */
  async #schedule(now: number, cfg: QueueLimitsConfig): Promise<void> {
    const at = nextAlarm(this.#state, cfg, now);
    if (at === null || this.#alarmAt === at) return;
    this.#alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }
}

/** The deployment's one dispatcher (one OpenAI key/organisation, one queue). */
export function dispatcherOf(env: AppBindings): DurableObjectStub<Dispatcher> {
  const ns = env.DISPATCH as DurableObjectNamespace<Dispatcher>;
  return ns.get(ns.idFromName("openai"));
}
