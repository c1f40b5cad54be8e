/**
 * The calls the rate window counts, kept bounded. Calls in flight are kept one by one (they hold
 * concurrency, and their answer finds them by generation id). Answered calls are merged by send
 * time into cells of a sixtieth of the window (`cellMs`): a cell counts in the window until its
 * latest call leaves it, so the window's count is never lower than the truth and dispatch never
 * goes past a limit, at the price of counting a merged call at most one cell (1 s a minute) too
 * long. Whatever the traffic, the record holds the calls in flight and at most
 * `ceil(held / cell) + 1` cells (62 for a minute and its guard), so what the dispatcher stores
 * and scans does not grow with the rate (test/unit/app/queue/window.test.ts).
 * Pure: time comes in as `now`; functions change the record in place.
 */

/** A call sent and not answered yet. */
export interface InflightCall {
  at: number;
  images: number;
}

/** Answered calls sent within one cell: `from`/`to` are the first and last send times. */
export interface AnsweredCell {
  from: number;
  to: number;
  images: number;
  /** Images of the calls that succeeded (the rest failed with no answer to say no image was made). */
  ok: number;
}

/** The window's record: part of the rate-limit state (limits.ts). */
export interface SentWindow {
  /** By generation id. */
  inflight: Record<string, InflightCall>;
  answered: AnsweredCell[];
}

/** Cells per window; the guard (limits.ts `heldMs`) adds one or two. */
export const CELLS_PER_WINDOW = 60;

/** A cell's length for a window: a sixtieth of it (1 s for a minute), at least 1 ms. */
export function cellMs(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / CELLS_PER_WINDOW));
}

/** An empty record. */
export const emptyWindow = (): SentWindow => ({ inflight: {}, answered: [] });

/** Counts a call sent now; a second count of the same generation changes nothing. */
export function countSent(w: SentWindow, gen: string, images: number, at: number): void {
  w.inflight[gen] ??= { at, images };
}

/** Takes a call out of the in-flight record (answered, refused or taken back); undefined if not there. */
export function takeInflight(w: SentWindow, gen: string): InflightCall | undefined {
  const call = w.inflight[gen];
  delete w.inflight[gen];
  return call;
}

/** Calls in flight. */
export const inflightCount = (w: SentWindow): number => Object.keys(w.inflight).length;

/**
 * Keeps an answered call in the window until `heldMs` after it was sent: merged into its send
 * time's cell, which then counts until its latest call leaves the window (never earlier than the
 * call itself would).
 */
export function countAnswered(
  w: SentWindow,
  call: InflightCall,
  ok: boolean,
  windowMs: number,
  heldMs: number,
  now: number,
): void {
  const size = cellMs(windowMs);
  const cell = Math.floor(call.at / size);
  const okImages = ok ? call.images : 0;
  const same = w.answered.find((c) => Math.floor(c.from / size) === cell);
  if (same) {
    same.from = Math.min(same.from, call.at);
    same.to = Math.max(same.to, call.at);
    same.images += call.images;
    same.ok += okImages;
  } else w.answered.push({ from: call.at, to: call.at, images: call.images, ok: okImages });
  forget(w, heldMs, now);
}

/** Forgets cells whose every call left the window; calls in flight stay (they hold concurrency). */
export function forget(w: SentWindow, heldMs: number, now: number): void {
  if (w.answered.some((c) => c.to <= now - heldMs)) w.answered = w.answered.filter((c) => c.to > now - heldMs);
}

/**
 * Images sent within the trailing `heldMs`, in flight or answered; never lower than the truth (a
 * cell counts while any of its calls would).
 */
export function sentImages(w: SentWindow, heldMs: number, now: number): number {
  let sum = 0;
  for (const call of Object.values(w.inflight)) if (call.at > now - heldMs) sum += call.images;
  for (const c of w.answered) if (c.to > now - heldMs) sum += c.images;
  return sum;
}

/**
 * Images sent within the trailing `heldMs` that succeeded; never higher than the truth (a cell
 * counts only while all of its calls do), so nothing is learned that was not seen.
 */
export function succeededImages(w: SentWindow, heldMs: number, now: number): number {
  let sum = 0;
  for (const c of w.answered) if (c.from > now - heldMs) sum += c.ok;
  return sum;
}

/** When the window's count next falls on its own: the first send to leave it; null when empty. */
export function nextSlide(w: SentWindow, heldMs: number, now: number): number | null {
  let at = Number.POSITIVE_INFINITY;
  for (const call of Object.values(w.inflight)) if (call.at > now - heldMs) at = Math.min(at, call.at + heldMs);
  for (const c of w.answered) if (c.to > now - heldMs) at = Math.min(at, c.to + heldMs);
  return Number.isFinite(at) ? at : null;
}
