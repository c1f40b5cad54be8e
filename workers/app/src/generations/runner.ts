/**
 * A generation object's run, as one sequence: wait for the turn, enter each phase (persisted
 * before its step), call OpenAI (run.ts), and again after a rate-limit 429 the queue requeued;
 * then the end, which tells the queue how the call went after the client. At most one runs per
 * object, in `ctx.waitUntil`.
 */
import { getConfig } from "../config";
import type { ReleaseOutcome } from "../queue/rpc-types";
import type { ObjectState } from "./ending";
import type { QueueWatch } from "./queue-watch";
import { nextCheck } from "./recover";
import { generationLog, type RunResult, runGeneration, unexpectedFailure } from "./run";
import {
  rateLimited,
  rateLimitHeaders,
  releaseOutcome,
  reportRateLimited,
  type TurnEnd,
  type UpstreamAnswer,
} from "./turn";
import type { GenerationRecord, Phase } from "./types";

/** What a broken `acquire` turns into: the run pauses (see `#pause`). */
const PAUSED = Symbol("paused");

/** What the run needs of its object beyond the shared state. */
export interface RunHost extends ObjectState {
  /** Keeps the object alive for the run (`ctx.waitUntil`). */
  waitUntil(promise: Promise<unknown>): void;
  /** The object's waitForTurn (tests override it). */
  waitForTurn(): Promise<TurnEnd | undefined>;
  /** The object's queue watch. */
  queue(): QueueWatch;
  /** The object's end, with its waiters; `report` is what the dispatcher is still owed. */
  end(result: RunResult | TurnEnd, report?: ReleaseOutcome): Promise<void>;
}

/** The run of one generation object; `running` tells recovery whether its owner is alive. */
export class Runner {
  #running = false;

  constructor(private readonly host: RunHost) {}

  /** Whether a run is under way in this instance. */
  get running(): boolean {
    return this.#running;
  }

  /** Starts the run unless one is under way. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.host.waitUntil(this.#run());
  }

  async #run(): Promise<void> {
    const host = this.host;
    let result: RunResult | TurnEnd;
    // What the dispatcher is owed once a turn was granted, however the run ends.
    let report: ReleaseOutcome | undefined;
    try {
      for (;;) {
        const end = await host.waitForTurn().catch((): typeof PAUSED => PAUSED);
        if (end === PAUSED) return this.#pause();
        if (end) {
          result = end;
          break;
        }
        await this.#enter("granted");
        report = { kind: "failed" };
        let answer: UpstreamAnswer | undefined;
        result = await runGeneration({
          env: host.env,
          config: getConfig(host.env),
          record: host.record() as GenerationRecord,
          enter: (phase) => this.#enter(phase),
          preview: (p) => host.fanout.publish(host.events.preview(p)),
          answered: (status, headers) => {
            answer = { status, headers: rateLimitHeaders(headers) };
          },
        });
        report = releaseOutcome(result, answer);
        // Only OpenAI's rate-limit 429 needs the dispatcher's answer before the end: it may requeue.
        if (!rateLimited(result, answer)) break;
        const heard = await this.#requeue(report);
        if (heard !== "requeued") {
          if (heard === "heard") report = undefined;
          break;
        }
        report = undefined;
      }
    } catch (err) {
      result = unexpectedFailure(host.env, host.record() as GenerationRecord, err);
    }
    const record = host.record();
    if ("route" in result && result.route && record) record.route = result.route;
    this.#running = false;
    await host.end(result, report);
  }

  /**
   * Stops the run without ending the generation: the dispatcher could not be asked (its `acquire`
   * broke through every retry), but it may hold the generation's place, so the wait is not given
   * up: the alarm starts the run again within queuedCheckMs (recover.ts). Nothing is owed to the
   * dispatcher here: a turn granted before was reported when it was requeued.
   */
  #pause(): void {
    this.#running = false;
    const record = this.host.record();
    if (record?.phase !== "ended") {
      generationLog(this.host.env, record as GenerationRecord).warn(
        "The queue could not be asked; asked again by the alarm",
      );
    }
  }

  /**
   * Tells the dispatcher of OpenAI's rate-limit 429. When it sent the call back to the queue,
   * nothing was billed, the budget hold and the idempotency key stay, and the generation waits
   * again (status `queued`; its next turn is a second `running` event).
   */
  async #requeue(report: ReleaseOutcome): Promise<"requeued" | "heard" | "unheard"> {
    const host = this.host;
    const record = host.record() as GenerationRecord;
    const log = generationLog(host.env, record);
    const heard = await reportRateLimited(host.release, record, report, log);
    if (heard !== "requeued") return heard;
    record.phase = "queued";
    record.status = "queued";
    host.save();
    await host.storage.sync();
    log.info("Rate limited by OpenAI: back in the queue", { grants: record.grants });
    host.queue().reset();
    host.queue().start(true);
    return heard;
  }

  /** Persists a phase before its step; `sent` is synced and watched by the alarm. */
  async #enter(phase: Phase): Promise<void> {
    const host = this.host;
    const record = host.record() as GenerationRecord;
    if (record.phase === "ended") throw new Error("Ended by recovery"); // a stuck run woke late
    const now = Date.now();
    record.phase = phase;
    if (phase === "granted") {
      record.status = "running";
      record.grants += 1;
      record.granted_at = now;
      // Saved with `sent`, a moment later: a restart in between finds `queued` and resumes.
      host.fanout.publish(host.events.append("running", {}));
      return;
    }
    if (phase === "sent") record.sent_at = now;
    host.save();
    if (phase === "sent") await host.storage.setAlarm(nextCheck(record, host.clock()));
    await host.storage.sync();
  }
}
