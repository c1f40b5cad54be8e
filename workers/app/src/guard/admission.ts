import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError, misconfigured } from "../errors";
import type { GenerateAnswer, Job } from "../generate/job";
import type { GenerateRequest } from "../generate/schema";
import { type BudgetHold, holdBudget } from "./budget-hold";
import { hashBody, idempotencyFor } from "./idempotency";
import { limiterFor } from "./rate-limit";

/** The outcome of the gate: a stored answer to replay, or a run to report back on. */
export interface Admission {
  replay?: GenerateAnswer;
  succeeded(answer: GenerateAnswer): Promise<void>;
  failed(): Promise<void>;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A stable text of the validated request: the same request in another key order is the same. */
const canonical = (req: GenerateRequest) => JSON.stringify(Object.entries(req).sort(([a], [b]) => a.localeCompare(b)));

function binding<T>(value: T | undefined, name: string, why: string): T {
  if (!value) throw misconfigured(`${name} binding missing (${why})`);
  return value;
}

/**
 * The guards in front of a generation, in order: a repeat of an Idempotency-Key is answered from
 * the store (no upstream call, no limit spent); then the client's per-minute and per-day limits;
 * then the day's budget holds the call's worst-case cost (budget-hold.ts). Whatever is refused here never reaches
 * the upstream.
 */
export async function admit(c: Context<AppEnv>, job: Job, req: GenerateRequest): Promise<Admission> {
  const settings = job.config.guard;
  const begun = await beginIdempotency(c, job, req);
  if (begun?.replay) return { replay: begun.replay, succeeded: async () => {}, failed: async () => {} };
  const store = begun?.store;

  try {
    await takeRateLimit(c, job);

    let hold: BudgetHold | undefined;
    if (settings.dailyBudgetUsd !== undefined) {
      binding(c.env.BUDGET, "BUDGET", "DAILY_BUDGET_USD");
      hold = await holdBudget(c, job, req, settings.prices, settings.dailyBudgetUsd);
    }

    return {
      async succeeded(answer) {
        await hold?.succeeded(answer);
        await store?.complete(JSON.stringify(answer));
      },
      async failed() {
        await hold?.failed();
        await store?.release();
      },
    };
  } catch (err) {
    // Refused after the key was taken: free it, so that the client may retry with it.
    await store?.release();
    throw err;
  }
}

/**
 * An Idempotency-Key's part: none without the header; a stored answer to replay; or the store,
 * now holding the key for this run. A repeat while it runs, or with another body, is refused.
 */
async function beginIdempotency(
  c: Context<AppEnv>,
  job: Job,
  req: GenerateRequest,
): Promise<{ replay?: GenerateAnswer; store?: ReturnType<typeof idempotencyFor> } | undefined> {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError("invalid_request", "Idempotency-Key must be 1-255 visible ASCII characters.", {
      param: "Idempotency-Key",
    });
  }
  binding(c.env.IDEMPOTENCY, "IDEMPOTENCY", "Idempotency-Key");
  const store = idempotencyFor(c.env, c.get("client"), key);
  const begun = await store.begin(await hashBody(canonical(req)));
  if (begun.kind === "replay") {
    job.log.info("Answered from the idempotency store", { idempotency: "replay" });
    return { replay: JSON.parse(begun.answer) as GenerateAnswer };
  }
  if (begun.kind === "in_progress") {
    throw new ApiError("request_in_progress", "A request with this Idempotency-Key is still running. Retry shortly.", {
      headers: { "Retry-After": "5" },
    });
  }
  if (begun.kind === "mismatch") {
    throw new ApiError("idempotency_key_reused", "This Idempotency-Key was used with a different request body.");
  }
  return { store };
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
