/**
 * A generation's side of the fair queue (queue/dispatcher.ts, pull model): the dispatcher never
 * calls a generation; the generation asks for its turn, reports how its call went, and reads its
 * place while someone watches. What each answer means for the generation lives here, apart from
 * the object's I/O.
 */

import type { Logger } from "../../../shared/log";
import type { AppBindings } from "../env";
import { ApiError } from "../errors";
import { type AcquireResult, dispatcherOf, type EnterResult, type ReleaseOutcome } from "../queue/dispatcher";
import type { RunResult } from "./run";
import type { GenerationRecord } from "./types";

/** How a wait in the queue ended without a turn: the generation ends so, nothing sent or billed. */
export type TurnEnd = { outcome: "queue_full" | "queue_timeout" | "cancelled"; error: ApiError };

/** What OpenAI's answer said, as far as the queue cares: its status and its rate-limit headers. */
export interface UpstreamAnswer {
  status: number;
  headers: Record<string, string>;
}

/**
 * The dispatcher's RPC surface as a generation uses it. Spelled out because the stub's inferred
 * types make a union of promises out of a promise of a union.
 */
export interface DispatcherRpc {
  enter(gen: string, client: string, images: number): Promise<EnterResult>;
  acquire(gen: string, client: string, images: number): Promise<AcquireResult>;
  position(gen: string): Promise<{ position: number; etaS: number } | null>;
  release(gen: string, outcome: ReleaseOutcome): Promise<{ requeued: true } | { released: true }>;
  cancel(gen: string): Promise<boolean>;
}

/** The deployment's dispatcher (queue/dispatcher.ts `dispatcherOf`), typed for generations. */
export const queueOf = (env: AppBindings): DispatcherRpc => dispatcherOf(env) as unknown as DispatcherRpc;

/** Turns (grants) a generation rate-limited by OpenAI gets at most: three calls, as egress's retries were. */
export const MAX_TURNS = 3;

/** Images the generation asks for: what the dispatcher counts against the window. */
export const imagesOf = (record: GenerationRecord): number => record.spec.request.n ?? 1;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls a dispatcher RPC again when it breaks (a restart of the dispatcher rejects every pending
 * call; each RPC is idempotent by generation id, so the next finds the same place): 0.2, 0.4 …
 * 3.2 s apart, five retries. `stop` is asked before each retry: an ended generation asks nothing.
 */
export async function retried<T>(rpc: () => Promise<T>, stop: () => boolean = () => false): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await rpc();
    } catch (err) {
      if (attempt >= 5 || stop()) throw err;
      await sleep(200 * 2 ** attempt);
    }
  }
}

/** The end a dispatcher's answer means, or undefined for `granted` and `queued` (wait on). */
export function turnEnd(answer: AcquireResult | EnterResult): TurnEnd | undefined {
  if ("full" in answer) {
    const seconds = Math.max(1, Math.min(3600, Math.ceil(answer.retryAfterS)));
    const error = new ApiError("queue_full", `Too many images are waiting to be generated. Retry in ${seconds} s.`, {
      headers: { "Retry-After": String(seconds) },
    });
    return { outcome: "queue_full", error };
  }
  if ("expired" in answer) {
    const message = "The image waited too long in the queue and was not generated; nothing was charged. Try again.";
    return { outcome: "queue_timeout", error: new ApiError("queue_timeout", message) };
  }
  if ("cancelled" in answer) return { outcome: "cancelled", error: cancelledError() };
  return undefined;
}

/** The error of a generation cancelled while it waited. */
export function cancelledError(): ApiError {
  return new ApiError("cancelled", "The generation was cancelled before it started; nothing was charged.");
}

/** The headers the dispatcher learns from: wait hints and `x-ratelimit-*`. */
export function rateLimitHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name === "retry-after" || name === "retry-after-ms" || name.startsWith("x-ratelimit-")) out[name] = value;
  }
  return out;
}

/**
 * Whether a run ended in OpenAI's rate-limit 429 (not `insufficient_quota`, which failures/
 * answer-status.ts words as upstream_error): nothing was billed, and the queue may give it
 * another turn.
 */
export function rateLimited(result: RunResult, answer: UpstreamAnswer | undefined): boolean {
  return answer?.status === 429 && "error" in result && result.error.code === "upstream_rate_limited";
}

/** The report of a granted call for `release` (plain data: it crosses RPC). */
export function releaseOutcome(result: RunResult, answer: UpstreamAnswer | undefined): ReleaseOutcome {
  const headers = answer?.headers;
  if (result.outcome === "succeeded") return { kind: "done", ...(headers ? { headers } : {}) };
  if (!answer) return { kind: "failed" };
  const code = rateLimited(result, answer)
    ? "rate_limit_exceeded"
    : answer.status === 429
      ? "insufficient_quota"
      : null;
  return { kind: "failed", status: answer.status, code, headers: answer.headers };
}

/** The first ask, from `create`: the answer, or undefined when the dispatcher could not be asked. */
export function firstTurn(env: AppBindings, record: GenerationRecord): Promise<EnterResult | undefined> {
  return retried(() => queueOf(env).enter(record.id, record.spec.client, imagesOf(record))).catch(() => undefined);
}

/**
 * Waits for the turn (`acquire`) unless `first` already settled it: undefined when the generation
 * may send, else how its wait ended. Not retried once the generation ended (a cancel).
 */
export async function awaitTurn(
  env: AppBindings,
  record: GenerationRecord,
  first: EnterResult | undefined,
): Promise<TurnEnd | undefined> {
  let answer: EnterResult | AcquireResult | undefined = first;
  if (!answer || "queued" in answer) {
    const dispatcher = queueOf(env);
    const ended = () => record.phase === "ended";
    answer = await retried(() => dispatcher.acquire(record.id, record.spec.client, imagesOf(record)), ended);
  }
  return turnEnd(answer);
}

/**
 * Reports OpenAI's rate-limit 429 to the dispatcher before the end, for it may give the call
 * another turn (at most MAX_TURNS - 1 times): `requeued` (the generation waits again), `heard`
 * (released; on the last turn it is told `final`, so never requeued), or `unheard` when the dispatcher could not be
 * told (the end then keeps the report pending). Every other outcome is reported after the end.
 */
export async function reportRateLimited(
  release: DispatcherRpc["release"],
  record: GenerationRecord,
  report: ReleaseOutcome,
  log: Logger,
): Promise<"requeued" | "heard" | "unheard"> {
  // The last turn is told `final`: the dispatcher learns from the 429 and frees the grant in the
  // same call, so no requeue can be granted again before a separate cancel (it would be held).
  const last = record.grants >= MAX_TURNS;
  const released = await retried(() => release(record.id, last ? { ...report, final: true } : report)).catch(
    () => undefined,
  );
  if (!released) {
    log.warn("The queue did not hear how the call went; told again after the end");
    return "unheard";
  }
  if ("requeued" in released) return "requeued";
  // Refused every turn (a limit the queue does not see, e.g. the key shared elsewhere): the
  // client gets OpenAI's 429, as egress gave it before the queue, after as many calls.
  if (last) log.warn("Rate limited by OpenAI on every turn: not queued again", { grants: record.grants });
  return "heard";
}

/**
 * Sends the report an ended record still owes the dispatcher (`record.report`): true when done
 * (then it is gone, for the caller to save). A dispatcher that cannot be told is logged, not
 * thrown: the alarm tries again, and past STALE_GRANT_MS the dispatcher takes the grant back.
 */
export async function reportPending(
  env: AppBindings,
  release: DispatcherRpc["release"],
  record: GenerationRecord,
  log: Logger,
): Promise<boolean> {
  const report = record.report;
  if (!report) return true;
  try {
    // `final`: the generation has ended, so nothing may requeue it.
    const heard = await retried(() => release(record.id, { ...report, final: true }));
    // A rate-limit 429 whose first report broke in transit may have been requeued all the same:
    // the generation has ended, so it leaves the queue instead of holding a grant nobody takes.
    if ("requeued" in heard) await retried(() => queueOf(env).cancel(record.id));
  } catch {
    log.warn("The queue did not hear how the call went; retried by the alarm");
    return false;
  }
  delete record.report;
  return true;
}
