/**
 * How a generation object ends and settles: the record ended per outcome.ts's rule, its guards
 * settled (settle.ts) before the end is told, then the final event; the dispatcher's report after. Functions over the object's
 * state, passed explicitly as an `ObjectState` (generations/object.ts owns it).
 */
import type { AppConfig } from "../config";
import type { AppBindings } from "../env";
import type { ApiError } from "../errors";
import { DEFAULT_PRICES } from "../guard/pricing";
import type { ReleaseOutcome } from "../queue/rpc-types";
import type { EventLog } from "./event-log";
import type { Fanout } from "./fanout";
import { type Outcome, ruleFor } from "./outcome";
import { endRecord } from "./record";
import { alarmMargin, nextCheck, type RecoveryClock } from "./recover";
import { generationLog, type RunResult } from "./run";
import { settlePending } from "./settle";
import { type DispatcherRpc, reportPending } from "./turn";
import { answerOf, type GenerationRecord } from "./types";

/** What the ending and the run need of their generation object. */
export interface ObjectState {
  readonly env: AppBindings;
  readonly storage: DurableObjectStorage;
  readonly events: EventLog;
  readonly fanout: Fanout;
  /** The record; undefined before create and after expiry. */
  record(): GenerationRecord | undefined;
  /** Persists the record (kv, synchronous). */
  save(): void;
  /** The settings, or undefined when they are wrong. */
  config(): AppConfig | undefined;
  clock(): Omit<RecoveryClock, "now" | "running">;
  /** The dispatcher's `release` for this generation (the object's, which a test subclass can hold). */
  release: DispatcherRpc["release"];
}

/**
 * Ends the generation: the record (with what is left to do: `settle`, and the dispatcher's
 * `report` when a call was granted) in one write, the guards settled, then the final event and
 * closed streams. True when it ended now: the caller then answers its waiters and calls
 * `finishEnd`, so the dispatcher is told after the client, never on the answer's path.
 */
export async function endGeneration(
  state: ObjectState,
  result: RunResult | { outcome: Outcome; error: ApiError },
  rule = ruleFor(result.outcome),
  report?: ReleaseOutcome,
): Promise<boolean> {
  const record = state.record();
  if (!record || record.phase === "ended") return false;
  endRecord(record, rule, "answer" in result ? { answer: result.answer } : { error: result.error });
  if (report) record.report = report;
  state.save(); // with `settle` and `report`: a crash before they are done is finished by recovery
  // Before the end is told: a retry with the key must find it released.
  await settlePending(state.env, pricesOf(state), record, generationLog(state.env, record));
  const ok = record.status === "succeeded";
  state.fanout.publish(
    state.events.append(ok ? "completed" : "error", ok ? answerOf(record) : { error: record.error }),
  );
  state.fanout.closeAll();
  return true;
}

/**
 * What an ended record still owes, after the client was told: its guards (if settling failed),
 * the dispatcher's report, then one write of what was done, with the alarm at the record's
 * expiry, or a margin away while something is left (recovery retries it).
 */
export async function finishEnd(state: ObjectState, record: GenerationRecord): Promise<void> {
  const log = generationLog(state.env, record);
  const settled = await settlePending(state.env, pricesOf(state), record, log);
  const reported = await reportPending(state.env, state.release, record, log);
  state.save();
  const clock = state.clock();
  await state.storage.setAlarm(
    settled && reported ? nextCheck(record, clock) : Date.now() + alarmMargin(clock.timeoutMs),
  );
}

const pricesOf = (state: ObjectState) => state.config()?.guard.prices ?? DEFAULT_PRICES;
