import type { AppBindings } from "../env";
import { queueOf } from "./turn";
import type { QueuePosition } from "./types";

/** How often a watched, queued generation asks the dispatcher for its place. */
export const POLL_MS = 2000;

/** What the watch needs from its generation. */
export interface WatchHost {
  env: AppBindings;
  id: string;
  /** Whether the generation still waits in the queue. */
  queued(): boolean;
  /** Whether anyone follows it (a stream); without anyone, no timer runs. */
  watched(): boolean;
  /** A new place, to publish as an ephemeral `queued` event. */
  moved(place: QueuePosition): void;
}

/**
 * A queued generation's place, read from the dispatcher (pull model: the dispatcher never calls
 * a generation): every POLL_MS while someone watches and it waits, and once per GET. Nothing is
 * scheduled while nobody watches, so a queue of unwatched generations costs no timers.
 */
export class QueueWatch {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #last: QueuePosition | undefined;

  constructor(private readonly host: WatchHost) {}

  /** Starts polling if it should run and does not (now: the first read at once). */
  start(now = false): void {
    if (this.#timer !== undefined || !this.host.queued() || !this.host.watched()) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        void this.refresh().then(() => this.start());
      },
      now ? 0 : POLL_MS,
    );
  }

  /** Reads the place once; a new one is published. A broken RPC is skipped (the next poll retries). */
  async refresh(): Promise<QueuePosition | undefined> {
    if (!this.host.queued()) return undefined;
    const place = await queueOf(this.host.env)
      .position(this.host.id)
      .catch(() => null);
    // The turn may have come during the read: a place means nothing once running.
    if (!place || !this.host.queued()) return undefined;
    const next = { position: place.position, eta_s: place.etaS };
    this.told(next);
    return next;
  }

  /** Forgets the last place (back in the queue after a turn: the next place is news). */
  reset(): void {
    this.#last = undefined;
  }

  /** A place learned otherwise (the first `enter`): published when it changed. */
  told(place: QueuePosition): void {
    if (this.#last?.position === place.position && this.#last.eta_s === place.eta_s) return;
    this.#last = place;
    this.host.moved(place);
  }
}
