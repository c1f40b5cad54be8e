/**
 * Who goes next in the fair queue: deficit round robin (Shreedhar & Varghese, 1995) across
 * clients with a quantum of one image per round, first in first out within a client. A request
 * for n images needs n credits, so it waits about n rounds without holding up one-image requests,
 * and a client with many requests gets one turn per round like everyone else.
 *
 * Pure: the state is plain data, so the dispatcher keeps it in Durable Object storage as it is and
 * finds the same order after a restart. Functions change it in place (one thread owns it).
 */

/** One waiting generation. `seq` is given by `enqueue` and fixes the order within a client. */
export interface QueueEntry {
  gen: string;
  client: string;
  /** Images asked for (`n`), at least 1. */
  images: number;
  seq: number;
  enqueuedAt: number;
}

/** One client's line and its credit. A client is in the ring exactly while it has entries. */
export interface ClientLine {
  client: string;
  deficit: number;
  entries: QueueEntry[];
}

/** The whole queue. `ring[0]` is the client whose turn it is; its quantum is already credited. */
export type FairState = { nextSeq: number; ring: ClientLine[] };

/** What is ahead of an entry in the projected grant order (UI position = `requests + 1`). */
export type Ahead = { requests: number; images: number };

const QUANTUM = 1;

/** An empty queue. */
export const newQueue = (): FairState => ({ nextSeq: 1, ring: [] });

/**
 * Adds a generation at the end of its client's line and returns its entry. Idempotent by `gen`:
 * a retried enqueue returns the entry already waiting, so nothing waits twice.
 */
export function enqueue(
  state: FairState,
  entry: Pick<QueueEntry, "gen" | "client" | "images">,
  now: number,
): QueueEntry {
  const { gen, client, images } = entry;
  if (!Number.isInteger(images) || images < 1) throw new RangeError("images must be an integer ≥ 1");
  const existing = find(state, gen);
  if (existing) return existing;
  const queued: QueueEntry = { gen, client, images, seq: state.nextSeq++, enqueuedAt: now };
  const line = state.ring.find((l) => l.client === client);
  if (line) line.entries.push(queued);
  else join(state, { client, deficit: 0, entries: [queued] }, state.ring.length);
  return queued;
}

/**
 * Takes the next entry in round-robin order off the queue if it fits in `capacity` images (from
 * `grantCapacity`), else returns null and keeps the turn: a large request is never skipped for
 * smaller ones, so it cannot starve. Call again while it returns entries.
 *
 * Only an entry whose generation is there to send is granted (`ready`, by default every one): a
 * client whose head is not ready is passed over without losing its credit or its place, as the
 * next turn after the current one (`passOver`), and no other entry of it goes first (FIFO).
 */
export function nextGrant(
  state: FairState,
  capacity: number,
  ready: (gen: string) => boolean = () => true,
): QueueEntry | null {
  if (!(capacity >= 1)) return null; // also NaN
  for (;;) {
    if (!passOver(state, ready)) return null;
    const line = state.ring[0];
    const head = line?.entries[0];
    if (!line || !head) return null;
    if (line.deficit < head.images) {
      rotate(state);
      continue;
    }
    if (head.images > capacity) return null;
    line.entries.shift();
    line.deficit -= head.images;
    const next = line.entries[0];
    if (!next) leave(state, 0);
    else if (line.deficit < next.images) rotate(state);
    return head;
  }
}

/**
 * Gives the turn to the first client whose head is ready, the clients before it (absent) moving
 * right behind it in their order: the turn's quantum goes back (an absent client earns nothing
 * while away) and what it had earned before stays, so it has the next turn once it asks again.
 * False, with nothing changed, when no client's head is ready.
 */
function passOver(state: FairState, ready: (gen: string) => boolean): boolean {
  const first = state.ring.findIndex((l) => l.entries[0] !== undefined && ready(l.entries[0].gen));
  if (first < 0) return false;
  if (first === 0) return true;
  const absent = state.ring.splice(0, first);
  const turn = absent[0] as ClientLine;
  turn.deficit = Math.max(0, turn.deficit - QUANTUM);
  state.ring.splice(1, 0, ...absent);
  (state.ring[0] as ClientLine).deficit += QUANTUM;
  return true;
}

/** Takes a waiting generation out (cancel, queue timeout). Returns it, or null when it was not waiting. */
export function remove(state: FairState, gen: string): QueueEntry | null {
  for (const [i, line] of state.ring.entries()) {
    const at = line.entries.findIndex((e) => e.gen === gen);
    if (at < 0) continue;
    const [entry] = line.entries.splice(at, 1);
    if (line.entries.length === 0) leave(state, i);
    // Credit earned towards a cancelled head must not let the next entries jump the round.
    else if (at === 0) line.deficit = Math.min(line.deficit, (line.entries[0]?.images ?? 1) - 1 + (i === 0 ? 1 : 0));
    return entry ?? null;
  }
  return null;
}

/**
 * Puts a granted generation that was answered with a rate-limit 429 back at the head of its
 * client's line (by its original `seq`), giving back the credit its grant used, so it loses
 * neither its place nor its turn. Idempotent by `gen`.
 */
export function requeueAtHead(state: FairState, entry: QueueEntry): void {
  if (find(state, entry.gen)) return;
  const line = state.ring.find((l) => l.client === entry.client);
  if (line) {
    const at = line.entries.findIndex((e) => e.seq > entry.seq);
    line.entries.splice(at < 0 ? line.entries.length : at, 0, entry);
    line.deficit += entry.images;
    return;
  }
  // Next after the current turn, with the credit its own turn's quantum will complete.
  const fresh = { client: entry.client, deficit: entry.images - QUANTUM, entries: [entry] };
  join(state, fresh, Math.min(1, state.ring.length));
}

/** The waiting entry for `gen`, or undefined. */
export function find(state: FairState, gen: string): QueueEntry | undefined {
  return state.ring.flatMap((l) => l.entries).find((e) => e.gen === gen);
}

/** Every waiting entry, in `seq` order: the rows to persist; `enqueuedAt` finds queue timeouts. */
export function entries(state: FairState): QueueEntry[] {
  return state.ring.flatMap((l) => l.entries).sort((a, b) => a.seq - b.seq);
}

/** Requests and images waiting. */
export function size(state: FairState): Ahead {
  const all = state.ring.flatMap((l) => l.entries);
  return { requests: all.length, images: all.reduce((sum, e) => sum + e.images, 0) };
}

/**
 * What is ahead of every waiting entry if nothing else arrives, by replaying the round robin on
 * a copy. One pass for all entries, so the dispatcher's batched `queued` updates cost O(images).
 */
export function positions(state: FairState): Map<string, Ahead> {
  const copy = structuredClone(state);
  const out = new Map<string, Ahead>();
  const ahead: Ahead = { requests: 0, images: 0 };
  for (let e = nextGrant(copy, Number.POSITIVE_INFINITY); e; e = nextGrant(copy, Number.POSITIVE_INFINITY)) {
    out.set(e.gen, { ...ahead });
    ahead.requests++;
    ahead.images += e.images;
  }
  return out;
}

/** What is ahead of one waiting entry; null when it is not waiting. */
export function position(state: FairState, gen: string): Ahead | null {
  return positions(state).get(gen) ?? null;
}

/**
 * Rebuilds a queue from persisted rows. Lines are ordered by `seq`; the ring follows `ring` (the
 * saved client order and credits) when given, and clients it does not name come after, by their
 * oldest `seq`. So a restart keeps the order even if only the rows survived.
 */
export function restore(
  rows: QueueEntry[],
  saved?: { nextSeq: number; ring: Omit<ClientLine, "entries">[] },
): FairState {
  const byClient = new Map<string, QueueEntry[]>();
  for (const row of [...rows].sort((a, b) => a.seq - b.seq)) {
    if (!byClient.has(row.client)) byClient.set(row.client, []);
    byClient.get(row.client)?.push({ ...row });
  }
  const ring: ClientLine[] = [];
  for (const { client, deficit } of saved?.ring ?? []) {
    const list = byClient.get(client);
    if (!list) continue;
    ring.push({ client, deficit, entries: list });
    byClient.delete(client);
  }
  const state: FairState = { nextSeq: Math.max(saved?.nextSeq ?? 1, ...rows.map((r) => r.seq + 1)), ring };
  for (const [client, entries] of byClient) join(state, { client, deficit: 0, entries }, state.ring.length);
  return state;
}

/** Inserts a line; a line that becomes ring[0] starts its turn with one quantum. */
function join(state: FairState, line: ClientLine, at: number): void {
  state.ring.splice(at, 0, line);
  if (at === 0) line.deficit += QUANTUM;
}

/** Ends ring[0]'s turn: it goes to the back and the next client's turn starts. */
function rotate(state: FairState): void {
  const first = state.ring.shift();
  if (first) state.ring.push(first);
  const next = state.ring[0];
  if (next) next.deficit += QUANTUM;
}

/** Drops an emptied line; when it held the turn, the next client's turn starts. */
function leave(state: FairState, at: number): void {
  state.ring.splice(at, 1);
  const next = state.ring[0];
  if (at === 0 && next) next.deficit += QUANTUM;
}
