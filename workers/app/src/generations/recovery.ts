/**
 * What a generation's object does when it wakes without knowing its run (a fresh instance after
 * a restart, or its alarm), done: recover.ts decides, this file acts on the object's state.
 */
import type { ApiError } from "../errors";
import type { ReleaseOutcome } from "../queue/rpc-types";
import { finishEnd, type ObjectState } from "./ending";
import { type Outcome, type OutcomeRule, ruleFor } from "./outcome";
import { interruptedEnd, recoveryFor } from "./recover";
import { generationLog, type RunResult } from "./run";
import { releaseKey } from "./settle";
import { queueOf, releaseOutcome, retried, type TurnEnd, turnEnd } from "./turn";

/** What recovery needs of its object beyond the shared state. */
export interface RecoveryHost extends ObjectState {
  /** Whether this instance runs the generation right now. */
  running(): boolean;
  /** Starts the run again (nothing was sent). */
  resume(): void;
  /** The object's end, with its waiters, then the dispatcher's `report`. */
  endWith(
    result: RunResult | { outcome: Outcome; error: ApiError },
    rule: Readonly<OutcomeRule>,
    report?: ReleaseOutcome,
  ): Promise<void>;
  /** Deletes everything the object stores, and forgets its record. */
  forget(): Promise<void>;
}

/**
 * Recovers the object's record per recover.ts: `fresh` for a new instance (acts at once), else
 * the alarm (acts once a deadline passed, else sets the alarm for it).
 */
export async function recover(host: RecoveryHost, fresh: boolean): Promise<void> {
  const record = host.record();
  if (!record) return;
  const decision = recoveryFor(record, { ...host.clock(), now: Date.now(), running: host.running() }, fresh);
  if (decision.action === "expire") {
    await releaseKey(host.env, record);
    await host.forget();
  } else if (decision.action === "settle") {
    await finishEnd(host, record);
  } else if (decision.action === "interrupt") {
    const end = await interruptedEnd(host.env.IMAGES, record);
    generationLog(host.env, record).warn(end.message, { phase: record.phase, fresh });
    // The run that would have reported to the queue is gone: its call is reported after its end, like a run's.
    await host.endWith(end.result, end.rule, releaseOutcome(end.result, undefined));
  } else if (decision.action === "timeout") {
    generationLog(host.env, record).warn("Generation ended in the queue: waited past its deadline", { fresh });
    await host.endWith(turnEnd({ expired: true }) as TurnEnd, ruleFor("queue_timeout"));
    // Any place the dispatcher still keeps goes too, after the end: a run's acquire answered
    // `cancelled` then finds it ended. Best effort: a waiting entry also expires by itself.
    await retried(() => queueOf(host.env).cancel(record.id)).catch(() => false);
  } else if (decision.action === "resume") {
    // Re-armed first: if this instance dies too, the next alarm resumes the run again.
    await host.storage.setAlarm(decision.alarmAt);
    host.resume();
  } else if (!fresh) {
    await host.storage.setAlarm(decision.alarmAt);
  }
}
