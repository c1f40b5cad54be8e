import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError, misconfigured } from "../errors";
import type { GenerateAnswer, Job } from "../generate/handler";
import type { GenerateRequest } from "../generate/schema";
import { ledger } from "./budget";
import { hashBody, idempotencyFor } from "./idempotency";
import { actualCost, estimateCost } from "./pricing";
import { limiterFor } from "./rate-limit";

/** The outcome of the gate: a stored answer to replay, or a run to report back on. */
export interface Admission {
  replay?: GenerateAnswer;
  succeeded(answer: GenerateAnswer): Promise<void>;
  failed(err: ApiError): Promise<void>;
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
 * then the day's budget holds the call's estimated cost. Whatever is refused here never reaches
 * the upstream.
 */
export async function admit(c: Context<AppEnv>, job: Job, req: GenerateRequest): Promise<Admission> {
  const settings = job.config.guard;
  const client = c.get("client");
  const undo: Array<() => Promise<void>> = [];
  const rollback = async () => {
    for (const step of undo.reverse()) await step();
  };

  let store: ReturnType<typeof idempotencyFor> | undefined;
  const key = c.req.header("idempotency-key");
  if (key !== undefined) {
    if (!IDEMPOTENCY_KEY.test(key)) {
      throw new ApiError("invalid_request", "Idempotency-Key must be 1-255 visible ASCII characters.", {
        param: "Idempotency-Key",
      });
    }
    binding(c.env.IDEMPOTENCY, "IDEMPOTENCY", "Idempotency-Key");
    store = idempotencyFor(c.env, client, key);
    const begun = await store.begin(await hashBody(canonical(req)));
    if (begun.kind === "replay") {
      job.log.info("Answered from the idempotency store", { idempotency: "replay" });
      const replay = JSON.parse(begun.answer) as GenerateAnswer;
      return { replay, succeeded: async () => {}, failed: async () => {} };
    }
    if (begun.kind === "in_progress") {
      throw new ApiError(
        "request_in_progress",
        "A request with this Idempotency-Key is still running. Retry shortly.",
        {
          headers: { "Retry-After": "5" },
        },
      );
    }
    if (begun.kind === "mismatch") {
      throw new ApiError("idempotency_key_reused", "This Idempotency-Key was used with a different request body.");
    }
    const started = store;
    undo.push(() => started.release());
  }

  try {
    if (settings.perMinute > 0 || settings.perDay > 0) {
      binding(c.env.CLIENT_LIMITS, "CLIENT_LIMITS", "rate limits");
      const decision = await limiterFor(c.env, client).take(settings.perMinute, settings.perDay);
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

    let hold: { id: string; estimate: number } | undefined;
    if (settings.dailyBudgetUsd !== undefined) {
      binding(c.env.BUDGET, "BUDGET", "DAILY_BUDGET_USD");
      const estimate = estimateCost(settings.prices, job.model, req.n ?? 1);
      const reserved = await ledger(c.env).reserve(estimate, settings.dailyBudgetUsd);
      if (!reserved.ok) {
        job.log.warn("Daily budget exhausted", { retry_after: reserved.retryAfter });
        throw new ApiError(
          "budget_exhausted",
          "Today's image budget is used up. Generation resumes after midnight UTC.",
          {
            headers: { "Retry-After": String(reserved.retryAfter) },
          },
        );
      }
      hold = { id: reserved.id, estimate };
    }

    return {
      async succeeded(answer) {
        if (hold) {
          const cost = actualCost(settings.prices, job.model, answer.images.length, answer.usage);
          const { spent } = await ledger(c.env).settle(hold.id, cost);
          job.log.info("Charged to the daily budget", { cost_usd: round(cost), spent_usd: round(spent) });
        }
        await store?.complete(JSON.stringify(answer));
      },
      async failed(err) {
        // A call that timed out may still have been billed: keep its estimate. Any other
        // failure was refused or failed before OpenAI produced an image.
        if (hold) await ledger(c.env).settle(hold.id, err.code === "upstream_timeout" ? hold.estimate : 0);
        await store?.release();
      },
    };
  } catch (err) {
    await rollback();
    throw err;
  }
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;
