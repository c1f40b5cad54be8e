import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError, misconfigured } from "../errors";
import type { GenerateAnswer, Job } from "../generate/job";
import type { GenerateRequest } from "../generate/schema";
import { ledger } from "./budget";
import { type BudgetHold, holdBudget } from "./budget-hold";
import { hashBody, idempotencyFor } from "./idempotency";
import { limiterFor } from "./rate-limit";

/**
 * The outcome of the gate. `join`: the Idempotency-Key already belongs to a generation (running
 * or ended): attach to it, nothing was taken. `replay`: an answer stored before durable
 * generations. Otherwise the guards admitted a new generation: what it must settle when it ends
 * (the key and the budget hold, generations/settle.ts), and `release` for when it never starts.
 */
export interface Admission {
  join?: string;
  /** When the joined key was taken (epoch ms): a young key's generation may not exist yet. */
  joinedAt?: number;
  replay?: GenerateAnswer;
  idempotency?: { key: string; body_hash: string };
  budget?: { hold_id: string; estimate_usd: number };
  /**
   * The generation could not be created: free the key and the hold (nothing was sent). For a
   * join: free the key from a generation that never came to exist (its first request died).
   */
  release(): Promise<void>;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A stable text of the validated request: the same request in another key order is the same. */
const canonical = (req: GenerateRequest) => JSON.stringify(Object.entries(req).sort(([a], [b]) => a.localeCompare(b)));

function binding<T>(value: T | undefined, name: string, why: string): T {
  if (!value) throw misconfigured(`${name} binding missing (${why})`);
  return value;
}

const nothing = async () => {};

/**
 * The guards in front of a generation, in order: a repeat of an Idempotency-Key joins the
 * generation it started (no upstream call, no limit spent); then the client's per-minute and
 * per-day limits; then the day's budget holds the call's worst-case cost (budget-hold.ts).
 * Whatever is refused here never reaches the upstream. `generationId` is the id the new
 * generation will have, recorded with the key so that repeats find it.
 */
export async function admit(
  c: Context<AppEnv>,
  job: Job,
  req: GenerateRequest,
  generationId: string,
): Promise<Admission> {
  const settings = job.config.guard;
  const begun = await beginIdempotency(c, job, req, generationId);
  if (begun?.join) {
    const { join, store } = begun;
    return { join, joinedAt: begun.joinedAt, release: async () => store?.release(join) };
  }
  if (begun?.replay) return { replay: begun.replay, release: nothing };
  const store = begun?.store;

  try {
    await takeRateLimit(c, job);

    let hold: BudgetHold | undefined;
    if (settings.dailyBudgetUsd !== undefined) {
      binding(c.env.BUDGET, "BUDGET", "DAILY_BUDGET_USD");
      hold = await holdBudget(c, job, req, settings.prices, settings.dailyBudgetUsd);
    }

    return {
      ...(begun?.idempotency ? { idempotency: begun.idempotency } : {}),
      ...(hold ? { budget: { hold_id: hold.id, estimate_usd: hold.estimate } } : {}),
      async release() {
        if (hold) await ledger(c.env).settle(hold.id, 0);
        await store?.release(generationId);
      },
    };
  } catch (err) {
    // Refused after the key was taken: free it, so that the client may retry with it.
    await store?.release(generationId);
    throw err;
  }
}

/**
 * An Idempotency-Key's part: none without the header; the generation it belongs to (join); an
 * old stored answer to replay; or the store, now holding the key for `generationId`. The same
 * key with another body is refused.
 */
async function beginIdempotency(
  c: Context<AppEnv>,
  job: Job,
  req: GenerateRequest,
  generationId: string,
): Promise<
  | {
      join?: string;
      joinedAt?: number;
      replay?: GenerateAnswer;
      store?: ReturnType<typeof idempotencyFor>;
      idempotency?: { key: string; body_hash: string };
    }
  | undefined
> {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError("invalid_request", "Idempotency-Key must be 1-255 visible ASCII characters.", {
      param: "Idempotency-Key",
    });
  }
  binding(c.env.IDEMPOTENCY, "IDEMPOTENCY", "Idempotency-Key");
  const store = idempotencyFor(c.env, c.get("client"), key);
  const bodyHash = await hashBody(canonical(req));
  const begun = await store.begin(bodyHash, generationId);
  if (begun.kind === "join") {
    job.log.info("Joined the generation of this Idempotency-Key", { idempotency: "join" });
    return { join: begun.generationId, joinedAt: begun.at, store };
  }
  if (begun.kind === "replay") {
    job.log.info("Answered from the idempotency store", { idempotency: "replay" });
    return { replay: JSON.parse(begun.answer) as GenerateAnswer };
  }
  if (begun.kind === "in_progress") {
    // Only an entry written before durable generations can still be in this state.
    throw new ApiError("request_in_progress", "A request with this Idempotency-Key is still running. Retry shortly.", {
      headers: { "Retry-After": "5" },
    });
  }
  if (begun.kind === "mismatch") {
    throw new ApiError("idempotency_key_reused", "This Idempotency-Key was used with a different request body.");
  }
  return { store, idempotency: { key, body_hash: bodyHash } };
}

/** Counts the call against the client's per-minute and per-day limits, or refuses it. */
async function takeRateLimit(c: Context<AppEnv>, job: Job): Promise<void> {
  const settings = job.config.guard;
  if (settings.perMinute <= 0 && settings.perDay <= 0) return;
  binding(c.env.CLIENT_LIMITS, "CLIENT_LIMITS", "rate limits");
  const decision = await limiterFor(c.env, c.get("client")).take(settings.perMinute, settings.perDay);
  if (!decision.ok) {
    job.log.warn("Rate limit reached", { window: decision.window, retry_after: decision.retryAfter });
    throw new ApiError(
      "rate_limited",
      `Too many generations this ${decision.window}. Retry in ${decision.retryAfter} s.`,
      {
        headers: { "Retry-After": String(decision.retryAfter) },
      },
    );
  }
}
