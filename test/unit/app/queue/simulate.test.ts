/**
 * The fair queue's core driven as the dispatcher will drive it, with a fake clock and a fake
 * upstream that allows L images per W ms and answers 429 with retry-after past it (counting
 * images on arrival, as OpenAI's images-per-minute limit does).
 */
import { describe, expect, it } from "vitest";
import {
  enqueue,
  newQueue,
  nextGrant,
  type QueueEntry,
  requeueAtHead,
} from "../../../../workers/app/src/queue/fairness";
import {
  type CallOutcome,
  grantCapacity,
  newLimits,
  QUEUE_DEFAULTS,
  type QueueLimitsConfig,
  recordGrant,
  recordOutcome,
  wakeAt,
} from "../../../../workers/app/src/queue/limits";

interface Request {
  gen: string;
  client: string;
  images: number;
}

/** The fake OpenAI: a sliding window of accepted images; a refused call is not counted. */
function fakeUpstream(limit: number, windowMs: number) {
  const accepted: { at: number; images: number }[] = [];
  let refused = 0;
  return {
    get refused() {
      return refused;
    },
    call(now: number, images: number): { ok: true } | { ok: false; retryAfterMs: number } {
      const inWindow = accepted.filter((a) => a.at > now - windowMs);
      let used = inWindow.reduce((sum, a) => sum + a.images, 0);
      if (used === 0 || used + images <= limit) {
        accepted.push({ at: now, images });
        return { ok: true };
      }
      refused++;
      // The moment enough of the window has left for this call to fit.
      for (const a of inWindow) {
        used -= a.images;
        if (used + images <= limit) return { ok: false, retryAfterMs: a.at + windowMs - now };
      }
      return { ok: false, retryAfterMs: windowMs };
    },
  };
}

/**
 * Runs the requests to the end. All arrive at t = 0 in the order given: "one by one" dispatches
 * after each (as the dispatcher does per enqueue RPC), "together" only once all are queued.
 */
function simulate(
  requests: Request[],
  upstreamLimit: number,
  windowMs: number,
  over: Partial<QueueLimitsConfig> = {},
  arrival: "one by one" | "together" = "one by one",
) {
  const cfg: QueueLimitsConfig = { ...QUEUE_DEFAULTS, windowMs, ...over };
  const fair = newQueue();
  const limits = newLimits(0);
  const upstream = fakeUpstream(upstreamLimit, windowMs);
  const grants: { gen: string; client: string; images: number; at: number }[] = [];
  const done = new Map<string, number>();
  const rateLimitedAt: number[] = [];
  type Event = { at: number; run: (now: number) => void };
  const events: Event[] = [];
  const wakes = new Set<number>();
  const schedule = (at: number, run: (now: number) => void) => events.push({ at, run });

  const dispatch = (now: number) => {
    for (;;) {
      const entry = nextGrant(fair, grantCapacity(limits, cfg, now));
      if (!entry) break;
      recordGrant(limits, entry.gen, entry.images, now);
      grants.push({ gen: entry.gen, client: entry.client, images: entry.images, at: now });
      const answer = upstream.call(now, entry.images);
      // Call times vary (1.0-1.5 s) so answers do not arrive in lockstep.
      const took = answer.ok ? 1000 + ((grants.length * 137) % 500) : 50;
      schedule(now + took, (t) => settle(t, entry, answer));
    }
    const wake = wakeAt(limits, cfg, now);
    if (wake !== null && !wakes.has(wake)) {
      wakes.add(wake);
      schedule(wake, dispatch);
    }
  };
  const settle = (now: number, entry: QueueEntry, answer: ReturnType<typeof upstream.call>) => {
    let outcome: CallOutcome = { kind: "done" };
    if (!answer.ok) {
      rateLimitedAt.push(now);
      const headers = new Headers({
        "retry-after": String(Math.ceil(answer.retryAfterMs / 1000)),
        "retry-after-ms": String(answer.retryAfterMs),
      });
      outcome = { kind: "failed", status: 429, code: "rate_limit_exceeded", headers };
    } else done.set(entry.gen, now);
    if (recordOutcome(limits, entry.gen, outcome, cfg, now).requeue) requeueAtHead(fair, entry);
    dispatch(now);
  };

  /** How many grants had been made when each request was queued. */
  const queuedAfter = new Map<string, number>();
  for (const r of requests) {
    queuedAfter.set(r.gen, grants.length);
    enqueue(fair, r, 0);
    if (arrival === "one by one") dispatch(0);
  }
  dispatch(0);
  for (let steps = 0; events.length > 0; steps++) {
    if (steps > 100_000) throw new Error("simulation did not settle");
    events.sort((a, b) => a.at - b.at);
    const next = events.shift() as Event;
    next.run(next.at);
  }
  return { grants, done, refused: upstream.refused, rateLimitedAt, limits, queuedAfter };
}

/** The largest number of images granted within any window of `windowMs` among `grants`. */
function maxPerWindow(grants: { at: number; images: number }[], windowMs: number): number {
  return Math.max(
    0,
    ...grants.map((g) =>
      grants.filter((x) => x.at > g.at - windowMs && x.at <= g.at).reduce((s, x) => s + x.images, 0),
    ),
  );
}

/** One client with six requests (arriving first, the worst case), eleven with one each. */
const crowd: Request[] = [
  ...Array.from({ length: 6 }, (_, i) => ({ gen: `heavy-${i + 1}`, client: "heavy", images: 1 })),
  ...Array.from({ length: 11 }, (_, i) => ({ gen: `single-${i + 1}`, client: `client-${i + 1}`, images: 1 })),
];
const L = 3;
const W = 5000;

describe("fair queue simulation: 12 clients, upstream allows 3 images per 5 s", () => {
  it("without a configured limit: everyone gets their images, one 429 to learn the limit, none after", () => {
    const run = simulate(crowd, L, W);
    expect([...run.done.keys()].sort()).toEqual(crowd.map((r) => r.gen).sort());
    expect(run.refused).toBe(1);
    expect(run.limits.learned).toBe(L);
    const learnedAt = run.rateLimitedAt[0] as number;
    const afterwards = run.grants.filter((g) => g.at >= learnedAt);
    expect(afterwards.length).toBeGreaterThan(10);
    expect(maxPerWindow(afterwards, W)).toBeLessThanOrEqual(L);
  });

  it("with OPENAI_IMAGES_PER_MINUTE right: no 429 at all, and never more than the limit per window", () => {
    const run = simulate(crowd, L, W, { imagesPerMinute: L });
    expect(run.done.size).toBe(crowd.length);
    expect(run.refused).toBe(0);
    expect(maxPerWindow(run.grants, W)).toBe(L);
  });

  it.each([
    ["learned", {}],
    ["configured", { imagesPerMinute: L }],
  ])(
    "arriving together, each single-request client goes before the heavy client's 2nd request (%s limit)",
    (_, over) => {
      const order = simulate(crowd, L, W, over, "together").grants.map((g) => g.gen);
      const secondHeavy = order.indexOf("heavy-2");
      for (const r of crowd.filter((x) => x.client !== "heavy")) expect(order.indexOf(r.gen)).toBeLessThan(secondHeavy);
    },
  );

  it.each([
    ["learned", {}],
    ["configured", { imagesPerMinute: L }],
  ])(
    "the heavy client arriving first takes only what was free; while others wait it gets one turn (%s limit)",
    (_, over) => {
      const run = simulate(crowd, L, W, over, "one by one");
      const firstGrant = (gen: string) => run.grants.findIndex((g) => g.gen === gen);
      const singles = crowd.filter((x) => x.client !== "heavy");
      const othersWaitFrom = run.queuedAfter.get("single-1") as number;
      const othersServedBy = Math.max(...singles.map((r) => firstGrant(r.gen)));
      const heavyWhileOthersWait = run.grants
        .slice(othersWaitFrom, othersServedBy)
        .filter((g) => g.client === "heavy" && firstGrant(g.gen) >= othersWaitFrom);
      expect(heavyWhileOthersWait.length).toBeLessThanOrEqual(1);
      // And in the brief's words: each single-request client before the heavy client's 5th request.
      const order = run.grants.map((g) => g.gen);
      for (const r of singles) expect(order.indexOf(r.gen)).toBeLessThan(order.indexOf("heavy-5"));
    },
  );

  it("with a configured concurrency cap, calls in flight never pass it", () => {
    const run = simulate(crowd, 100, W, { maxConcurrent: 2 });
    expect(run.done.size).toBe(crowd.length);
    for (const g of run.grants) {
      const running = run.grants.filter((x) => x.at <= g.at && (run.done.get(x.gen) ?? 0) > g.at);
      expect(running.length).toBeLessThanOrEqual(2);
    }
  });

  it("requests for several images count as several: still one 429, the window never over the limit after", () => {
    const mixed: Request[] = Array.from({ length: 12 }, (_, i) => ({
      gen: `g${i}`,
      client: `c${i % 5}`,
      images: 1 + (i % 3),
    }));
    for (const over of [{}, { imagesPerMinute: 4 }]) {
      const run = simulate(mixed, 4, W, over);
      expect(run.done.size).toBe(mixed.length);
      expect(run.refused).toBeLessThanOrEqual("imagesPerMinute" in over ? 0 : 1);
      const from = run.rateLimitedAt[0] ?? 0;
      expect(
        maxPerWindow(
          run.grants.filter((g) => g.at >= from),
          W,
        ),
      ).toBeLessThanOrEqual(4);
    }
  });
});
