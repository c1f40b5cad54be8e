import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import type { GenerateAnswer, Job } from "../generate/job";
import type { GenerateRequest } from "../generate/schema";
import { ledger } from "./budget";
import { actualCost, estimateCost, type PriceTable } from "./pricing";

/** Margin over UPSTREAM_TIMEOUT_MS for storing the images and settling, at most a minute. */
const HOLD_MARGIN_MAX_MS = 60_000;

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

/** A call's open hold in the day's ledger; settled once, by whichever of the two comes first. */
export interface BudgetHold {
  succeeded(answer: GenerateAnswer): Promise<void>;
  failed(): Promise<void>;
}

/**
 * Holds the call's worst-case cost in the day's ledger, or refuses it: `budget_exhausted` until
 * midnight UTC when the day's spending has reached the budget, `budget_busy` for a few seconds
 * when only other calls' open holds stand in the way. Long because the hold's two ways to end
 * (settled by the run, or by its own timer) must share one "settled once" flag.
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
  const timeout = job.config.upstreamTimeoutMs;
  const decision = await ledger(c.env).reserve(estimate, budget, timeout + Math.min(timeout, HOLD_MARGIN_MAX_MS));
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

  // Settled once: a failure after a successful settle (storing the answer) must not charge again.
  let open = true;
  const settle = async (cost: number) => {
    open = false;
    return (await ledger(c.env).settle(decision.id, cost)).spent;
  };
  return {
    async succeeded(answer) {
      if (!open) return;
      const cost = actualCost(prices, job.model, answer.images.length, answer.usage);
      const spent = await settle(cost);
      if (cost > estimate) {
        // Charged in full all the same: the hold is a guard, the usage is the bill.
        job.log.warn("Usage above the budget hold", {
          cost_usd: round(cost),
          hold_usd: round(estimate),
          excess_usd: round(cost - estimate),
        });
      }
      job.log.info("Charged to the daily budget", { cost_usd: round(cost), spent_usd: round(spent) });
    },
    async failed() {
      if (!open) return;
      // A call that may have reached OpenAI (runJob says) may have been billed without an
      // answer to say so: it keeps its worst-case estimate. One refused or never sent costs 0.
      const cost = job.mayBeBilled ? estimate : 0;
      const spent = await settle(cost);
      if (cost > 0) {
        job.log.warn("Failed call charged to the daily budget at its estimate: it may have been billed", {
          cost_usd: round(cost),
          spent_usd: round(spent),
        });
      }
    },
  };
}
