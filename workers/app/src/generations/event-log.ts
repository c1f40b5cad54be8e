import { answerOf, type GenerationRecord, type QueuePosition } from "./types";

/**
 * The numbering of a generation's events (docs/design/durable-generations.md §6), pure: no I/O,
 * no timers. Durable events (`started`, `running`, `completed` | `error`) are numbered 1, 2, 3…
 * and can be rebuilt from the record after a restart. Ephemeral ones (queue positions, previews)
 * are numbered `d.qK` / `d.pK` after the last durable one `d`, so an id a client saw is never
 * given to a different durable event later.
 */

/** One event, ready to format. */
export interface LogEvent {
  /** The SSE `id:`: `"3"` for a durable event, `"2.p1"` for an ephemeral one. */
  id: string;
  event: string;
  data: unknown;
  /** Durable events only: their number. */
  seq?: number;
  /** Ephemeral events only: a newer event with the same key replaces it (state, not history). */
  state?: string;
}

/** A parsed `Last-Event-ID`. */
export interface EventId {
  durable: number;
  ephemeral?: { kind: "q" | "p"; k: number };
}

const EVENT_ID = /^(\d{1,9})(?:\.([qp])(\d{1,9}))?$/;

/**
 * `Last-Event-ID` as sent back by a client. Undefined when absent or not one of ours: the client
 * then gets everything from the start (a duplicate is harmless, a gap is not).
 */
export function parseLastEventId(header: string | null | undefined): EventId | undefined {
  const m = EVENT_ID.exec(header?.trim() ?? "");
  if (!m) return undefined;
  const durable = Number(m[1]);
  if (!m[2]) return { durable };
  return { durable, ephemeral: { kind: m[2] as "q" | "p", k: Number(m[3]) } };
}

/** The `id:` text of a parsed id (the inverse of parseLastEventId). */
export function formatEventId(id: EventId): string {
  return id.ephemeral ? `${id.durable}.${id.ephemeral.kind}${id.ephemeral.k}` : String(id.durable);
}

/**
 * One event as SSE text. Same conventions as generate/sse-writer.ts (copied, not imported: that
 * file is being moved): JSON data on one line (JSON.stringify escapes line breaks), plus `id:`.
 */
export function formatEvent(event: LogEvent): string {
  return `id: ${event.id}\nevent: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** A comment line (heartbeats): proxies see traffic, EventSource clients ignore it. */
export function formatComment(text: string): string {
  return `: ${text}\n\n`;
}

const durable = (seq: number, event: string, data: unknown): LogEvent => ({ id: String(seq), event, data, seq });

/**
 * The durable events a record implies, in order: `started`, one `running` per grant, then
 * `completed` (the synchronous answer) or `error` (the envelope). The object appends the same
 * events live (EventLog.append); rebuilding them from the record after a restart gives the same
 * ids and data.
 */
export function durableEvents(record: GenerationRecord): LogEvent[] {
  const events = [
    durable(1, "started", {
      id: record.id,
      request_id: record.spec.request_id,
      model: record.model,
      status: "queued",
    }),
  ];
  for (let i = 0; i < record.grants; i++) events.push(durable(events.length + 1, "running", {}));
  if (record.status === "succeeded") events.push(durable(events.length + 1, "completed", answerOf(record)));
  if (record.status === "failed") events.push(durable(events.length + 1, "error", { error: record.error }));
  return events;
}

/** The ephemeral events that are current (latest queue position, latest preview per image). */
export interface EphemeralState {
  queued?: LogEvent;
  previews: LogEvent[];
}

/**
 * What a client resuming from `lastEventId` is sent: every durable event numbered above its
 * durable part, then the current ephemeral state unless its id is exactly the one the client
 * gave (it already has that one). Nothing ephemeral once the generation has ended, and always at
 * least the final event then.
 */
export function replayFrom(events: readonly LogEvent[], ephemeral: EphemeralState, lastEventId?: EventId): LogEvent[] {
  const after = lastEventId?.durable ?? 0;
  const out = events.filter((e) => (e.seq ?? 0) > after);
  const last = events.at(-1);
  // Ended: a client past the end gets the final event again (an empty stream reads as broken).
  if (last && (last.event === "completed" || last.event === "error")) return out.length > 0 ? out : [last];
  const seen = lastEventId ? formatEventId(lastEventId) : undefined;
  const current = [...(ephemeral.queued ? [ephemeral.queued] : []), ...ephemeral.previews];
  return [...out, ...current.filter((e) => e.id !== seen)];
}

/** A preview as the page shows it (openai-answer/read-answer.ts `PartialImage`). */
export interface Preview {
  index: number;
  url: string;
}

/**
 * A generation's events in memory: the durable ones (seeded from the record) and the current
 * ephemeral state. Each method returns the event it made, for the caller to publish in the same
 * turn (fanout.ts), so a subscriber attaching in between can neither miss it nor see it twice.
 */
export class EventLog {
  private readonly events: LogEvent[];
  private queue?: { event: LogEvent; position: QueuePosition };
  private readonly previews = new Map<number, LogEvent>();
  private k = { q: 0, p: 0 };

  constructor(events: readonly LogEvent[] = []) {
    this.events = [...events];
  }

  /** The number of the last durable event (0 before `started`). */
  get lastSeq(): number {
    return this.events.length;
  }

  /** Whether `completed` or `error` has been appended: nothing follows it. */
  get ended(): boolean {
    const last = this.events.at(-1);
    return last?.event === "completed" || last?.event === "error";
  }

  /** The latest queue position while queued, for GET's `queue` field. */
  get queuePosition(): QueuePosition | undefined {
    return this.queue?.position;
  }

  /**
   * Appends a durable event. Ephemeral state belongs to the step that just ended (a queue
   * position means nothing once running, a preview nothing once completed), so it is cleared.
   */
  append(event: "started" | "running" | "completed" | "error", data: unknown): LogEvent {
    const made = durable(this.events.length + 1, event, data);
    this.events.push(made);
    this.queue = undefined;
    this.previews.clear();
    return made;
  }

  /** A new queue position (ephemeral `d.qK`), replacing the previous one. */
  queued(position: QueuePosition): LogEvent {
    const event = this.ephemeral("q", "queued", position, "queue");
    this.queue = { event, position };
    return event;
  }

  /** A new preview for image `image` (ephemeral `d.pK`), replacing that image's previous one. */
  preview(preview: Preview, image = 0): LogEvent {
    const event = this.ephemeral("p", "partial", preview, `preview:${image}`);
    this.previews.set(image, event);
    return event;
  }

  /** The events for a client resuming after `lastEventId` (the raw header, or null). */
  replay(lastEventId: string | null | undefined): LogEvent[] {
    const ephemeral = { queued: this.queue?.event, previews: [...this.previews.values()] };
    return replayFrom(this.events, ephemeral, parseLastEventId(lastEventId));
  }

  private ephemeral(kind: "q" | "p", event: string, data: unknown, state: string): LogEvent {
    this.k[kind] += 1;
    return { id: formatEventId({ durable: this.lastSeq, ephemeral: { kind, k: this.k[kind] } }), event, data, state };
  }
}
