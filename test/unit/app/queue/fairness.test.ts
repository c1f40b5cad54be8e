import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  enqueue,
  entries,
  type FairState,
  find,
  newQueue,
  nextGrant,
  position,
  positions,
  type QueueEntry,
  remove,
  requeueAtHead,
  restore,
  size,
} from "../../../../workers/app/src/queue/fairness";

const ALL = Number.POSITIVE_INFINITY;

/** One grant, checked for FIFO: nothing of its client still waiting came before it. */
function grant(state: FairState, capacity: number): QueueEntry | null {
  const e = nextGrant(state, capacity);
  if (e) expect(entries(state).filter((w) => w.client === e.client && w.seq < e.seq)).toEqual([]);
  return e;
}

/** Grants until the queue is empty (or capacity runs out), returning the gens in order. */
function drain(state: FairState, capacity = ALL): string[] {
  const out: string[] = [];
  for (let e = grant(state, capacity); e; e = grant(state, capacity)) out.push(e.gen);
  return out;
}

function add(state: FairState, client: string, gen: string, images = 1, now = 0): QueueEntry {
  return enqueue(state, { gen, client, images }, now);
}

describe("fairness: deficit round robin", () => {
  it("interleaves one client's six requests with six single-request clients", () => {
    const q = newQueue();
    for (let i = 1; i <= 6; i++) add(q, "heavy", `h${i}`);
    for (let i = 1; i <= 6; i++) add(q, `c${i}`, `s${i}`);
    expect(drain(q)).toEqual(["h1", "s1", "s2", "s3", "s4", "s5", "s6", "h2", "h3", "h4", "h5", "h6"]);
  });

  it("n = 10 waits about ten rounds without holding up ten n = 1 requests", () => {
    const q = newQueue();
    add(q, "big", "b", 10);
    for (let i = 1; i <= 10; i++) add(q, "small", `s${i}`);
    const order = drain(q);
    // Each round the small client spends its one credit; the big one collects ten, then goes.
    expect(order.indexOf("b")).toBe(9);
    expect(order.filter((g) => g.startsWith("s"))).toEqual(Array.from({ length: 10 }, (_, i) => `s${i + 1}`));
  });

  it("holds the turn when the head does not fit: a large head is never skipped for smaller ones", () => {
    const q = newQueue();
    add(q, "a", "a1", 3);
    add(q, "b", "b1", 1);
    // Rounds run until a's head has its three credits (b is due first, it fits).
    expect(nextGrant(q, 2)?.gen).toBe("b1");
    expect(nextGrant(q, 2)).toBeNull();
    expect(nextGrant(q, 2)).toBeNull();
    expect(nextGrant(q, 3)?.gen).toBe("a1");
    expect(nextGrant(q, 0)).toBeNull();
  });

  it("enqueue is idempotent by gen and rejects a non-positive or fractional image count", () => {
    const q = newQueue();
    const first = add(q, "a", "g", 2, 5);
    expect(add(q, "a", "g", 2, 9)).toBe(first);
    expect(add(q, "b", "g", 1, 9)).toBe(first);
    expect(size(q)).toEqual({ requests: 1, images: 2 });
    expect(() => add(q, "a", "x", 0)).toThrow(RangeError);
    expect(() => add(q, "a", "y", 1.5)).toThrow(RangeError);
  });

  it("remove takes out a waiting entry exactly once and keeps the rest in order", () => {
    const q = newQueue();
    add(q, "a", "a1");
    add(q, "a", "a2");
    add(q, "b", "b1");
    expect(remove(q, "a1")?.gen).toBe("a1");
    expect(remove(q, "a1")).toBeNull();
    expect(find(q, "a1")).toBeUndefined();
    expect(drain(q)).toEqual(["a2", "b1"]);
  });

  it("a cancelled head's credit does not let the client's next requests jump the round", () => {
    const q = newQueue();
    add(q, "a", "a-big", 5);
    add(q, "a", "a1");
    add(q, "a", "a2");
    add(q, "b", "b1");
    add(q, "b", "b2");
    expect(nextGrant(q, 0)).toBeNull();
    // Credits accrue towards a-big while b is served...
    expect(nextGrant(q, ALL)?.gen).toBe("b1");
    remove(q, "a-big");
    expect(drain(q)).toEqual(["a1", "b2", "a2"]);
  });

  it("requeueAtHead puts a 429'd entry back first in its line and first after the current turn", () => {
    const q = newQueue();
    add(q, "a", "a1");
    add(q, "a", "a2");
    add(q, "b", "b1");
    add(q, "c", "c1");
    const a1 = nextGrant(q, ALL) as QueueEntry;
    const b1 = nextGrant(q, ALL) as QueueEntry;
    requeueAtHead(q, b1);
    requeueAtHead(q, b1);
    requeueAtHead(q, a1);
    expect(size(q)).toEqual({ requests: 4, images: 4 });
    // c's turn is under way; then b (its line was gone), then a's head is a1 again, before a2.
    expect(drain(q)).toEqual(["c1", "b1", "a1", "a2"]);
  });

  it("requeueAtHead into an empty queue makes the entry next", () => {
    const q = newQueue();
    const e = add(q, "a", "a1", 4);
    expect(nextGrant(q, ALL)).toBe(e);
    requeueAtHead(q, e);
    add(q, "b", "b1");
    expect(nextGrant(q, ALL)?.gen).toBe("a1");
  });

  it("position and positions give what is ahead in the order grants will follow", () => {
    const q = newQueue();
    add(q, "heavy", "h1", 2);
    add(q, "heavy", "h2", 1);
    add(q, "x", "x1", 1);
    // heavy's two-image head needs two rounds: x1 goes first, then h1, then h2.
    expect(position(q, "x1")).toEqual({ requests: 0, images: 0 });
    expect(position(q, "h2")).toEqual({ requests: 2, images: 3 });
    expect(position(q, "nope")).toBeNull();
    const before = JSON.stringify(q);
    const all = positions(q);
    expect(JSON.stringify(q)).toBe(before);
    const order = drain(q);
    expect(order).toEqual(["x1", "h1", "h2"]);
    expect(order.map((g) => all.get(g)?.requests)).toEqual([0, 1, 2]);
  });

  it("restore rebuilds the same order from rows alone or with the saved ring", () => {
    const q = newQueue();
    for (const [client, gen, n] of [
      ["a", "a1", 2],
      ["b", "b1", 1],
      ["a", "a2", 1],
      ["c", "c1", 3],
    ] as const)
      add(q, client, gen, n);
    nextGrant(q, ALL);
    const rows = entries(q).reverse();
    const saved = { nextSeq: q.nextSeq, ring: q.ring.map(({ client, deficit }) => ({ client, deficit })) };
    const withMeta = restore(rows, saved);
    const rowsOnly = restore(rows);
    const expected = drain(structuredClone(q));
    expect(drain(withMeta)).toEqual(expected);
    expect(drain(rowsOnly)).toEqual(expected);
    expect(add(rowsOnly, "d", "d1").seq).toBe(q.nextSeq);
  });
});

/** A random sequence of queue operations. */
const opArb = fc.oneof(
  fc.record({
    op: fc.constant("enqueue" as const),
    client: fc.integer({ min: 0, max: 4 }),
    images: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ op: fc.constant("grant" as const), capacity: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ op: fc.constant("remove" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("requeue" as const), pick: fc.nat() }),
);

type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

/** Runs the ops, tracking what left the queue how; returns everything for the properties. */
function run(ops: Op[]) {
  const q = newQueue();
  const enqueued: QueueEntry[] = [];
  const granted: QueueEntry[] = [];
  const removed: QueueEntry[] = [];
  const inflight: QueueEntry[] = [];
  for (const [i, o] of ops.entries()) {
    if (o.op === "enqueue") enqueued.push(add(q, `c${o.client}`, `g${i}`, o.images));
    if (o.op === "grant") {
      const e = grant(q, o.capacity);
      if (e) {
        granted.push(e);
        inflight.push(e);
      }
    }
    const waiting = entries(q);
    if (o.op === "remove" && waiting.length)
      removed.push(remove(q, waiting[o.pick % waiting.length]?.gen ?? "") as QueueEntry);
    if (o.op === "requeue" && inflight.length) {
      const [e] = inflight.splice(o.pick % inflight.length, 1);
      if (e) {
        granted.splice(granted.lastIndexOf(e), 1);
        requeueAtHead(q, e);
      }
    }
  }
  return { q, enqueued, granted, removed };
}

describe("fairness: only generations there to send are granted", () => {
  it("passes over an absent client without losing its place or credit: it has the next turn when it asks again", () => {
    const q = newQueue();
    for (const client of ["a", "b", "c"]) for (const i of [1, 2]) add(q, client, `${client}${i}`);
    const away = new Set(["a1", "a2"]);
    const present = (gen: string) => !away.has(gen);
    expect(nextGrant(q, ALL, present)?.gen).toBe("b1");
    expect(nextGrant(q, ALL, present)?.gen).toBe("c1");
    // Its place is kept: still first in the projected order, and it earned nothing while away.
    expect(position(q, "a1")).toEqual({ requests: 0, images: 0 });
    away.clear();
    expect(drain(q)).toEqual(["a1", "b2", "c2", "a2"]);
  });

  it("keeps FIFO within a client: an absent head holds back the client's next entries", () => {
    const q = newQueue();
    add(q, "a", "a1");
    add(q, "a", "a2");
    add(q, "b", "b1");
    const present = (gen: string) => gen !== "a1";
    expect(nextGrant(q, ALL, present)?.gen).toBe("b1");
    expect(nextGrant(q, ALL, present)).toBeNull();
    expect(entries(q).map((e) => e.gen)).toEqual(["a1", "a2"]);
  });

  it("with nobody present grants nothing and changes nothing", () => {
    const q = newQueue();
    add(q, "a", "a1", 2);
    add(q, "b", "b1");
    const before = structuredClone(q);
    expect(nextGrant(q, ALL, () => false)).toBeNull();
    expect(q).toEqual(before);
  });

  it("absent clients passed over many times gain no credit: back, each has one turn, then round robin", () => {
    const q = newQueue();
    for (const client of ["a", "b", "c"]) for (const i of [1, 2, 3]) add(q, client, `${client}${i}`);
    const onlyC = (gen: string) => gen.startsWith("c");
    expect([nextGrant(q, ALL, onlyC), nextGrant(q, ALL, onlyC)].map((e) => e?.gen)).toEqual(["c1", "c2"]);
    expect(q.ring.map((l) => l.deficit)).toEqual(q.ring.map((l) => (l === q.ring[0] ? 1 : 0)));
    expect(drain(q)).toEqual(["a1", "b1", "c3", "a2", "b2", "a3", "b3"]);
  });
});

describe("fairness: properties", () => {
  // FIFO is checked on every grant by grant() above.
  it("FIFO within a client, and every entry leaves exactly once (granted or removed)", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const { q, enqueued, granted, removed } = run(ops);
        const gens = [...granted.map((e) => e.gen), ...drain(q), ...removed.map((e) => e.gen)].sort();
        expect(gens).toEqual(enqueued.map((e) => e.gen).sort());
      }),
    );
  });

  it("the order after a JSON round trip or a restore from rows is the same", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const { q } = run(ops);
        const saved = { nextSeq: q.nextSeq, ring: q.ring.map(({ client, deficit }) => ({ client, deficit })) };
        const viaJson = JSON.parse(JSON.stringify(q)) as FairState;
        const viaRows = restore(entries(q), saved);
        const expected = drain(q);
        expect(drain(viaJson)).toEqual(expected);
        expect(drain(viaRows)).toEqual(expected);
      }),
    );
  });

  it("one-image requests go round robin: between two grants of a client no other is granted twice", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 }), (clients) => {
        const q = newQueue();
        for (const [i, c] of clients.entries()) add(q, `c${c}`, `g${i}`);
        const order = drain(q).map((g) => `c${clients[Number(g.slice(1))]}`);
        for (let i = 0; i < order.length; i++) {
          const j = order.indexOf(order[i] as string, i + 1);
          if (j < 0) continue;
          const between = order.slice(i + 1, j);
          expect(new Set(between).size).toBe(between.length);
        }
        expect(positions(q).size).toBe(0);
      }),
    );
  });
});
