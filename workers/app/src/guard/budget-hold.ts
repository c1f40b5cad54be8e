import type { Context } from "hono";
import type { AppConfig } from "../config";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import type { Job } from "../generate/job";
import type { GenerateRequest } from "../generate/schema";
import { longestLifeMs, timingOf } from "../generations/recover";
import { ledger } from "./budget";
import { estimateCost, type PriceTable } from "./pricing";

/** Margin over the generation's longest life for settling, as long as UPSTREAM_TIMEOUT_MS, at most a minute. */
const HOLD_MARGIN_MAX_MS = 60_000;

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

/**
 * A call's open hold in the day's ledger: its id and worst-case estimate. The generation that
 * makes the call settles it once, per generations/outcome.ts (generations/settle.ts).
 */
export interface BudgetHold {
  id: string;
  estimate: number;
}

/**
 * Holds the call's worst-case cost in the day's ledger, or refuses it: `budget_exhausted` until
 * midnight UTC when the day's spending has reached the budget, `budget_busy` for a few seconds
 * when only other calls' open holds stand in the way.
 */
export async function holdBudget(
  c: Context<AppEnv>,
  job: Job,
  req: GenerateRequest,
  prices: PriceTable,
  budget: number,
): Promise<BudgetHold> {
  const estimate = estimateCost(prices, {
    model: job.model,
    size: req.size,
    quality: req.quality,
    n: req.n ?? 1,
    partialImages: job.partialImages,
    promptChars: req.prompt.length,
  });
  const decision = await ledger(c.env).reserve(estimate, budget, holdTtlMs(job.config));
  if (decision.expired > 0) {
    job.log.warn("Budget holds expired without being settled (their calls died); charged at their estimates", {
      holds: decision.expired,
    });
  }
  if (!decision.ok) {
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

  return { id: decision.id, estimate };
}

/**
 * How long a hold lasts in the ledger: the generation's whole possible life (queue waits, turns
 * after rate-limit 429s, the call, storing: generations/recover.ts `longestLifeMs`) and a margin.
 * The generation settles its hold when it ends, recovery included, so the ledger's expiry (which
 * charges the hold as spent) is a last resort for a hold whose generation is gone: a hold that
 * expired while its generation still waited in the queue would charge a call never made.
 */
export function holdTtlMs(config: AppConfig): number {
  const timeout = config.upstreamTimeoutMs;
  return longestLifeMs(timingOf(config)) + Math.min(timeout, HOLD_MARGIN_MAX_MS);
}
