import { type EventLog, formatComment, formatEvent, type LogEvent } from "./event-log";

/**
 * Live subscribers of one generation (`GET …/events`, a streaming POST, a joined retry). Each gets
 * the replay from its `Last-Event-ID`, then live events, each event as one chunk into its own
 * IdentityTransformStream (as generate/sse-writer.ts does: no JavaScript stream per event).
 *
 * The run never waits for a subscriber: `publish` only queues, and each subscriber drains its
 * own queue. A subscriber that stops reading keeps at most its durable events plus one pending
 * event per ephemeral state (the latest queue position, the latest preview per image), so a slow
 * or stalled client costs bounded memory and never slows the generation. A subscriber whose
 * write rejects (the client went away) is dropped; the DO learns of it only then.
 */

/** Options of a Fanout. */
export interface FanoutOptions {
  /** STREAM_HEARTBEAT_MS: a `: keep-alive` comment to each idle subscriber this often. */
  heartbeatMs: number;
}

interface Pending {
  chunk: Uint8Array;
  /** Durable events: their number (never sent twice to one subscriber). */
  seq?: number;
  /** Ephemeral events: replaced in the queue by a newer one with the same state. */
  state?: string;
}

const encoder = new TextEncoder();

/** One client's stream and the chunks it has not taken yet. */
class Subscriber {
  readonly body: ReadableStream<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly queue: Pending[] = [];
  private writing = false;
  private closing = false;
  private sentSeq = 0;
  gone = false;

  constructor(private readonly onGone: (s: Subscriber) => void) {
    const { readable, writable } = new IdentityTransformStream();
    this.body = readable;
    this.writer = writable.getWriter();
  }

  /** Whether nothing is queued or being written (a heartbeat is useful only then). */
  get idle(): boolean {
    return !this.writing && this.queue.length === 0;
  }

  push(item: Pending): void {
    if (this.gone || this.closing) return;
    if (item.seq !== undefined) {
      // A durable event already queued from the replay must not go out a second time.
      if (item.seq <= this.sentSeq) return;
      this.sentSeq = item.seq;
    }
    if (item.state !== undefined) {
      // Replace an older pending event of the same state, but never one queued before a durable
      // event that is still pending: that would move newer state ahead of it.
      for (let i = this.queue.length - 1; i >= 0 && this.queue[i]?.seq === undefined; i--) {
        if (this.queue[i]?.state === item.state) {
          this.queue[i] = item;
          return;
        }
      }
    }
    this.queue.push(item);
    void this.drain();
  }

  /** Ends the stream once everything queued has been taken. */
  close(): void {
    if (this.gone || this.closing) return;
    this.closing = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) await this.writer.write(next.chunk);
      if (this.closing) {
        this.gone = true;
        await this.writer.close();
      }
    } catch {
      // The client went away: its stream is cancelled and every later write would reject too.
      this.gone = true;
      this.queue.length = 0;
    } finally {
      this.writing = false;
    }
    if (this.gone) this.onGone(this);
  }
}

/** The live subscribers of one generation, fed from its EventLog. */
export class Fanout {
  private readonly subscribers = new Set<Subscriber>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(
    private readonly log: EventLog,
    private readonly options: FanoutOptions,
  ) {}

  /** Subscribers currently attached. */
  get size(): number {
    return this.subscribers.size;
  }

  /**
   * A new subscriber's SSE body: the replay after `lastEventId` (the raw header), then live
   * events. After the end (or closeAll) it is the replay alone and the stream ends.
   */
  subscribe(lastEventId?: string | null): ReadableStream<Uint8Array> {
    const subscriber = new Subscriber((s) => this.drop(s));
    for (const event of this.log.replay(lastEventId)) subscriber.push(toPending(event));
    if (this.closed || this.log.ended) {
      subscriber.close();
      return subscriber.body;
    }
    this.subscribers.add(subscriber);
    this.heartbeat ??= setInterval(() => this.beat(), this.options.heartbeatMs);
    return subscriber.body;
  }

  /** Sends one event to every subscriber without waiting for any of them. */
  publish(event: LogEvent): void {
    // Nobody listening (a JSON answer): a later subscriber replays from the log, so formatting
    // and encoding the event now would be wasted.
    if (this.subscribers.size === 0) return;
    const pending = toPending(event);
    for (const subscriber of this.subscribers) subscriber.push(pending);
  }

  /** After the final event: each stream ends once its queue is written; heartbeats stop. */
  closeAll(): void {
    this.closed = true;
    this.stopHeartbeat();
    for (const subscriber of this.subscribers) subscriber.close();
    this.subscribers.clear();
  }

  private beat(): void {
    const chunk = encoder.encode(formatComment("keep-alive"));
    for (const subscriber of this.subscribers) if (subscriber.idle) subscriber.push({ chunk });
  }

  private drop(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
    // No one left to keep alive: a pending timer would also keep the object from hibernating.
    if (this.subscribers.size === 0) this.stopHeartbeat();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

function toPending(event: LogEvent): Pending {
  return { chunk: encoder.encode(formatEvent(event)), seq: event.seq, state: event.state };
}
