import { DurableObject } from "cloudflare:workers";
import { DEFAULTS, loadConfig } from "../config";
import type { AppBindings } from "../env";
import type { ApiError } from "../errors";
import type { EnterResult, ReleaseOutcome } from "../queue/dispatcher";
import { endGeneration, finishEnd } from "./ending";
import { durableEvents, EventLog } from "./event-log";
import { Fanout } from "./fanout";
import type { Outcome, OutcomeRule } from "./outcome";
import { QueueWatch } from "./queue-watch";
import { newRecord, type WaitResult, waitResultOf } from "./record";
import { queuedCheckMs, timingOf } from "./recover";
import { type RecoveryHost, recover } from "./recovery";
import { generationLog, type RunResult } from "./run";
import { type RunHost, Runner } from "./runner";
import { awaitTurn, cancelledError, firstTurn, queueOf, retried, type TurnEnd, turnEnd } from "./turn";
import { type GenerationRecord, type GenerationSpec, type GenerationView, toView } from "./types";

const RECORD = "record";

/**
 * One generation, owned by the server and not by a connection (docs/design/durable-generations.md):
 * `create` persists it and starts the run in `ctx.waitUntil` (pending I/O keeps the object alive
 * without a client), `wait` and `view` answer the app, `fetch("/events")` streams it (replay from
 * `Last-Event-ID`, then live). A fresh instance or the alarm resumes a queued run a restart
 * took, or ends a call whose owner died (recovery.ts); the alarm also deletes the record after
 * GENERATION_TTL_HOURS. The run is
 * runner.ts's, the ending ending.ts's, the recovery recovery.ts's, all over this object's state
 * given explicitly.
 */
export class Generation extends DurableObject<AppBindings> {
  #record: GenerationRecord | undefined;
  #events: EventLog;
  #fanout: Fanout;
  #waiters: Array<(result: WaitResult) => void> = [];
  /** This object's state as runner.ts and ending.ts see it. */
  #state: RunHost;
  #runner: Runner;
  /** This object's state as recovery.ts sees it. */
  #recovery: RecoveryHost;
  /** The first answer of the queue (create's `enter`), for the run's first turn. */
  #turn: EnterResult | undefined;
  #watch: QueueWatch | undefined;

  constructor(ctx: DurableObjectState, env: AppBindings) {
    super(ctx, env);
    this.#record = ctx.storage.kv.get<GenerationRecord>(RECORD);
    this.#events = new EventLog(this.#record ? durableEvents(this.#record) : []);
    // The settings, or undefined when they are wrong: reading a record must work all the same.
    const config = () => loadConfig(env).config;
    this.#fanout = new Fanout(this.#events, { heartbeatMs: config()?.streamHeartbeatMs ?? DEFAULTS.streamHeartbeatMs });
    this.#state = {
      env,
      storage: ctx.storage,
      events: this.#events,
      fanout: this.#fanout,
      record: () => this.#record,
      save: () => {
        if (this.#record) ctx.storage.kv.put(RECORD, this.#record);
      },
      config,
      clock: () => timingOf(config()),
      waitUntil: (promise) => ctx.waitUntil(promise),
      waitForTurn: () => this.waitForTurn(),
      queue: () => this.#queue(),
      end: (result, report) => this.#end(result, undefined, report),
      release: (gen, outcome) => this.release(gen, outcome),
    };
    this.#runner = new Runner(this.#state);
    this.#recovery = {
      ...this.#state,
      running: () => this.#runner.running,
      resume: () => this.#runner.start(),
      endWith: (result, rule, report) => this.#end(result, rule, report),
      forget: async () => {
        await ctx.storage.deleteAll();
        this.#record = undefined;
      },
    };
    // A brand-new object (every POST makes one) has nothing to recover: blocking its input for
    // an empty #recover cost about 0.6 ms of CPU per generation (bench:ab, small answers).
    if (this.#record) void ctx.blockConcurrencyWhile(() => recover(this.#recovery, true));
  }

  /**
   * Starts the generation, once: a repeated create (a retried RPC) changes nothing. Its first
   * ask of the fair queue happens here, before the POST is answered: a full queue ends it at
   * once (`failed`, queue_full, nothing held or billed), so the POST can answer 503.
   */
  async create(id: string, model: string, spec: GenerationSpec): Promise<{ id: string; status: string }> {
    if (!this.#record) {
      const record = newRecord(id, model, spec, Date.now());
      this.#record = record;
      this.#state.save();
      // Watched from the start: while queued the alarm comes back every few seconds and resumes
      // a run a restart took (recover.ts); `sent` moves it to the call's deadline.
      await this.ctx.storage.setAlarm(record.enqueued_at + queuedCheckMs(this.#state.clock()));
      this.#fanout.publish(this.#events.append("started", durableEvents(this.#record)[0]?.data));
      // A broken enter leaves the first turn to the run's own acquire (with its retries).
      const first = await firstTurn(this.env, record);
      const end = first && turnEnd(first);
      if (end) {
        await this.#end(end);
        return { id, status: record.status };
      }
      this.#turn = first;
      if (first && "queued" in first) {
        generationLog(this.env, record).info("Generation queued", { position: first.position, eta_s: first.etaS });
        this.#queue().told({ position: first.position, eta_s: first.etaS });
      }
      this.#runner.start();
      if (first && "granted" in first) return { id, status: "running" };
    }
    return { id: this.#record.id, status: this.#record.status };
  }

  /** create() then wait(), in one round trip: the JSON answer's path. */
  async createAndWait(id: string, model: string, spec: GenerationSpec): Promise<WaitResult | null> {
    await this.create(id, model, spec);
    return this.wait();
  }

  /** Resolves when the generation ends; at once if it has. Null for an unknown id. */
  async wait(): Promise<WaitResult | null> {
    const ended = this.#result();
    if (ended !== undefined) return ended;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** GET /api/generations/{id}; null for an unknown or expired id. A queued one reads its place. */
  async view(): Promise<GenerationView | null> {
    if (this.#record?.status === "queued") await this.#queue().refresh();
    return this.#record ? toView(this.#record, this.#events.queuePosition) : null;
  }

  /**
   * DELETE /api/generations/{id}: a generation still waiting leaves the queue and ends `failed`
   * / cancelled, free (hold settled at 0, key released, nothing sent). `not_cancellable` once its
   * turn came (running or ended); null for an unknown id.
   */
  async cancel(): Promise<GenerationView | "not_cancellable" | null> {
    const record = this.#record;
    if (!record) return null;
    if (record.status !== "queued") return "not_cancellable";
    const left = await retried(() => queueOf(this.env).cancel(record.id));
    // Not in the queue: its turn came meanwhile (or it expired).
    if (!left) return "not_cancellable";
    // The run, told `cancelled` by its acquire, may have ended it already: that end is this one.
    generationLog(this.env, record).info("Generation cancelled while queued: nothing sent or charged");
    await this.#end({ outcome: "cancelled", error: cancelledError() });
    return toView(record);
  }

  /** `/events`: the generation as SSE from `Last-Event-ID`; 404 for an unknown id. */
  override async fetch(request: Request): Promise<Response> {
    if (!this.#record || new URL(request.url).pathname !== "/events") return new Response(null, { status: 404 });
    const body = this.#fanout.subscribe(request.headers.get("last-event-id"));
    if (this.#record.status === "queued") this.#queue().start(true);
    return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
  }

  override async alarm(): Promise<void> {
    await recover(this.#recovery, false);
  }

  /**
   * The fair queue (queue/dispatcher.ts): resolves with undefined when this generation may send,
   * or with how its wait ended (expired, cancelled, full). Status `queued` meanwhile.
   */
  protected async waitForTurn(): Promise<TurnEnd | undefined> {
    const first = this.#turn;
    this.#turn = undefined;
    return awaitTurn(this.env, this.#record as GenerationRecord, first);
  }

  /** The dispatcher's `release`, through which the run reports its call; tests hold it. */
  protected release(gen: string, outcome: ReleaseOutcome): Promise<{ requeued: true } | { released: true }> {
    return queueOf(this.env).release(gen, outcome);
  }

  /** The queue watch, made on first use (a generation granted at once never needs one). */
  #queue(): QueueWatch {
    const record = this.#record as GenerationRecord;
    this.#watch ??= new QueueWatch({
      env: this.env,
      id: record.id,
      queued: () => this.#record?.status === "queued",
      watched: () => this.#fanout.size > 0,
      moved: (place) => this.#fanout.publish(this.#events.queued(place)),
    });
    return this.#watch;
  }

  /** Ends the generation (ending.ts), answers the waiters, then tells the dispatcher (`report`). */
  async #end(
    result: RunResult | { outcome: Outcome; error: ApiError },
    rule?: Readonly<OutcomeRule>,
    report?: ReleaseOutcome,
  ): Promise<void> {
    if (!(await endGeneration(this.#state, result, rule, report))) return;
    const final = this.#result() as WaitResult;
    for (const resolve of this.#waiters.splice(0)) resolve(final);
    await finishEnd(this.#state, this.#record as GenerationRecord);
  }

  /** The ended generation as wait() gives it; undefined while it runs; null when unknown. */
  #result(): WaitResult | null | undefined {
    return this.#record ? waitResultOf(this.#record) : null;
  }
}
