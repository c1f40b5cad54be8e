/**
 * How a generation object ends and settles: the record ended per outcome.ts's rule, its guards
 * settled (settle.ts) before the end is told, then the final event. Functions over the object's
 * state, passed explicitly as an `ObjectState` (generations/object.ts owns it).
 */
import type { AppConfig } from "../config";
import type { AppBindings } from "../env";
import type { ApiError } from "../errors";
import { DEFAULT_PRICES } from "../guard/pricing";
import type { EventLog } from "./event-log";
import type { Fanout } from "./fanout";
import { type Outcome, ruleFor } from "./outcome";
import { endRecord } from "./record";
import { alarmMargin, nextCheck, type RecoveryClock } from "./recover";
import { generationLog, type RunResult } from "./run";
import { settlePending } from "./settle";
import type { DispatcherRpc } from "./turn";
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
 * Ends the generation: record, guards (outcome.ts), then the final event and closed streams.
 * True when it ended now (the caller then resolves its waiters); false when it had already.
 */
export async function endGeneration(
  state: ObjectState,
  result: RunResult | { outcome: Outcome; error: ApiError },
  rule = ruleFor(result.outcome),
): Promise<boolean> {
  const record = state.record();
  if (!record || record.phase === "ended") return false;
  endRecord(record, rule, "answer" in result ? { answer: result.answer } : { error: result.error });
  state.save(); // with `settle`: a crash before the settle is done is finished by recovery
  await settleRecord(state, record); // before the end is told: a retry with the key must find it released
  const ok = record.status === "succeeded";
  state.fanout.publish(
    state.events.append(ok ? "completed" : "error", ok ? answerOf(record) : { error: record.error }),
  );
  state.fanout.closeAll();
  return true;
}

/** Settles an ended record's guards; until that succeeds its alarm comes back every margin. */
export async function settleRecord(state: ObjectState, record: GenerationRecord): Promise<void> {
  const prices = state.config()?.guard.prices ?? DEFAULT_PRICES;
  const done = await settlePending(state.env, prices, record, generationLog(state.env, record));
  if (done) state.save();
  const clock = state.clock();
  await state.storage.setAlarm(done ? nextCheck(record, clock) : Date.now() + alarmMargin(clock.timeoutMs));
}
