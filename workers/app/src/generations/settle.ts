/**
 * What an ending does to the guards, done: the budget hold settled and the idempotency record
 * completed or released, exactly as generations/outcome.ts's table says. Every call is
 * idempotent by id (a settle of a settled hold, a release of a key that moved on, do nothing),
 * so a recovery that repeats an ending cannot charge twice.
 */
import type { Logger } from "../../../shared/log";
import type { AppBindings } from "../env";
import { ledger } from "../guard/budget";
import { idempotencyFor } from "../guard/idempotency";
import { actualCost, type PriceTable } from "../guard/pricing";
import { type OutcomeRule, settleAmount } from "./outcome";
import type { GenerationRecord } from "./types";

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

/** Settles the record's budget hold and idempotency key per `rule`. */
export async function settleGuards(
  env: AppBindings,
  prices: PriceTable,
  record: GenerationRecord,
  rule: Readonly<Pick<OutcomeRule, "budget" | "idempotency">>,
  log: Logger,
): Promise<void> {
  const { budget, idempotency } = record.spec;
  if (budget) {
    const actual =
      rule.budget === "settle_actual"
        ? actualCost(prices, record.model, record.images?.length ?? 0, record.usage)
        : undefined;
    const cost = settleAmount(rule.budget, { estimate: budget.estimate_usd, actual });
    if (cost !== undefined) {
      const { spent } = await ledger(env).settle(budget.hold_id, cost);
      if (rule.budget === "settle_actual") {
        if (cost > budget.estimate_usd) {
          // Charged in full all the same: the hold is a guard, the usage is the bill.
          log.warn("Usage above the budget hold", {
            cost_usd: round(cost),
            hold_usd: round(budget.estimate_usd),
            excess_usd: round(cost - budget.estimate_usd),
          });
        }
        log.info("Charged to the daily budget", { cost_usd: round(cost), spent_usd: round(spent) });
      } else if (cost > 0) {
        log.warn("Failed call charged to the daily budget at its estimate: it may have been billed", {
          cost_usd: round(cost),
          spent_usd: round(spent),
        });
      }
    }
  }
  if (idempotency) {
    const store = idempotencyFor(env, record.spec.client, idempotency.key);
    if (rule.idempotency === "release") await store.release(record.id);
    if (rule.idempotency === "complete") await store.complete(record.id);
  }
}

/**
 * Does what the ended record's `settle` says is left, once: true when done (then `settle` is
 * gone, for the caller to save). A failure is logged, not thrown: the alarm tries again.
 */
export async function settlePending(
  env: AppBindings,
  prices: PriceTable,
  record: GenerationRecord,
  log: Logger,
): Promise<boolean> {
  if (!record.settle) return true;
  try {
    await settleGuards(env, prices, record, record.settle, log);
  } catch (err) {
    log.error("Settling a generation's guards failed; retried by the alarm", {
      error: err instanceof Error ? err.name : "unknown",
    });
    return false;
  }
  delete record.settle;
  return true;
}

/**
 * Frees the record's Idempotency-Key when the record expires (GENERATION_TTL_HOURS may be shorter
 * than the key's 24 h): a repeat then starts anew instead of joining an id that 404s.
 */
export async function releaseKey(env: AppBindings, record: GenerationRecord): Promise<void> {
  const key = record.spec.idempotency?.key;
  if (key && env.IDEMPOTENCY) await idempotencyFor(env, record.spec.client, key).release(record.id);
}
