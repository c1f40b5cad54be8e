import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import type { GenerateAnswer, Job } from "../generate/handler";
import type { GenerateRequest } from "../generate/schema";
import { ledger } from "./budget";
import { hashBody, idempotencyFor } from "./idempotency";
import { actualCost, estimateCost, type PriceTable } from "./pricing";
import { limiterFor } from "./rate-limit";
import { guardSettings } from "./settings";

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
  if (!value) throw new ApiError("config_error", `The server is misconfigured: ${name} binding missing (${why}).`);
  return value;
}

/**
 * The guards in front of a generation, in order: a repeat of an Idempotency-Key is answered from
 * the store (no upstream call, no limit spent); then the client's per-minute and per-day limits;
 * then the day's budget holds the call's estimated cost. Whatever is refused here never reaches
 * the upstream.
 */
export async function admit(c: Context<AppEnv>, job: Job, req: GenerateRequest): Promise<Admission> {
  const settings = guardSettings(c.env);
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
      hold = await reserve(c, job, req, settings.prices, settings.dailyBudgetUsd);
    }

    // Settled once: a failure after a successful settle (storing the answer) must not charge again.
    const takeHold = () => {
      const taken = hold;
      hold = undefined;
      return taken;
    };
    return {
      async succeeded(answer) {
        const hold = takeHold();
        if (hold) {
          const cost = actualCost(settings.prices, job.model, answer.images.length, answer.usage);
          const { spent } = await ledger(c.env).settle(hold.id, cost);
          if (cost > hold.estimate) {
            // Charged in full all the same: the hold is a guard, the usage is the bill.
            job.log.warn("Usage above the budget hold", {
              cost_usd: round(cost),
              hold_usd: round(hold.estimate),
              excess_usd: round(cost - hold.estimate),
            });
          }
          job.log.info("Charged to the daily budget", { cost_usd: round(cost), spent_usd: round(spent) });
        }
        await store?.complete(JSON.stringify(answer));
      },
      async failed() {
        // A call that may have reached OpenAI (runJob says) may have been billed without an
        // answer to say so: it keeps its worst-case estimate. One refused or never sent costs 0.
        const hold = takeHold();
        if (hold) {
          const cost = job.mayBeBilled ? hold.estimate : 0;
          const { spent } = await ledger(c.env).settle(hold.id, cost);
          if (cost > 0) {
            job.log.warn("Failed call charged to the daily budget at its estimate: it may have been billed", {
              cost_usd: round(cost),
              spent_usd: round(spent),
            });
          }
        }
        await store?.release();
      },
    };
  } catch (err) {
    await rollback();
    throw err;
  }
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

/** Margin over UPSTREAM_TIMEOUT_MS for storing the images and settling, at most a minute. */
const HOLD_MARGIN_MAX_MS = 60_000;

/**
 * Holds the call's worst-case cost in the day's ledger, or refuses it: `budget_exhausted` until
 * midnight UTC when the day's spending has reached the budget, `budget_busy` for a few seconds
 * when only other calls' open holds stand in the way.
 */
async function reserve(
  c: Context<AppEnv>,
  job: Job,
  req: GenerateRequest,
  prices: PriceTable,
  budget: number,
): Promise<{ id: string; estimate: number }> {
  const estimate = estimateCost(prices, {
    model: job.model,
    size: req.size,
    quality: req.quality,
    n: req.n ?? 1,
    partialImages: job.partialImages,
    promptChars: req.prompt.length,
  });
  const timeout = job.config.upstreamTimeoutMs;
  const decision = await ledger(c.env).reserve(estimate, budget, timeout + Math.min(timeout, HOLD_MARGIN_MAX_MS));
  if (decision.expired > 0) {
    job.log.warn("Budget holds expired without being settled (their calls died); charged at their estimates", {
      holds: decision.expired,
    });
  }
  if (decision.ok) return { id: decision.id, estimate };
  const fields = {
    retry_after: decision.retryAfter,
    estimate_usd: round(estimate),
    spent_usd: round(decision.spent),
    held_usd: round(decision.held),
  };
  const headers = { "Retry-After": String(decision.retryAfter) };
  if (decision.reason === "busy") {
    job.log.warn("Daily budget held by calls in progress", fields);
    throw new ApiError(
      "budget_busy",
      `Calls in progress hold the rest of today's image budget. Retry in ${decision.retryAfter} s.`,
      { headers },
    );
  }
  job.log.warn("Daily budget exhausted", fields);
  throw new ApiError("budget_exhausted", "Today's image budget is used up. Generation resumes after midnight UTC.", {
    headers,
  });
}
