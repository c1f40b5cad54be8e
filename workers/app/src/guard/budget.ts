import { DurableObject } from "cloudflare:workers";
import type { AppBindings } from "../env";
import { secondsToNextUtcDay, utcDay } from "./settings";

/**
 * Retry-After for `budget_busy`: a small constant. How long the open calls will take is not
 * known (seconds to two minutes), and a refused retry costs only one round trip.
 */
export const BUSY_RETRY_AFTER_S = 5;

/** The lifetime of holds stored before holds carried their own. */
const LEGACY_TTL_MS = 15 * 60_000;

export type ReserveDecision =
  | { ok: true; id: string; expired: number }
  | { ok: false; reason: "exhausted" | "busy"; retryAfter: number; spent: number; held: number; expired: number };

interface Hold {
  amount: number;
  at: number;
  /** After this the hold's call is taken for dead (an isolate crash, a deploy); absent in old holds. */
  until?: number;
}

interface Ledger {
  day: string;
  spent: number;
  holds: Record<string, Hold>;
  /** Holds charged at expiry, by id, so a late settle replaces the estimate instead of adding. */
  expired?: Record<string, number>;
}

/**
 * The operator's spending for the current UTC day, in one object for the whole deployment.
 * Each call first holds its worst-case cost (so many calls at once can't all slip under the
 * budget), then settles to what OpenAI's usage says it cost. Stored durably: a restart or a new
 * deploy does not reset the day.
 */
export class BudgetLedger extends DurableObject<AppBindings> {
  /**
   * The day's ledger. A hold past its `until` belongs to a call that died without settling: it
   * is charged as spent at its estimate (the call may have reached OpenAI and been billed), so
   * it stops blocking others without losing what it may have cost.
   */
  private async load(now: number): Promise<{ ledger: Ledger; expired: number }> {
    const day = utcDay(now);
    const stored = await this.ctx.storage.get<Ledger>("ledger");
    const ledger = stored && stored.day === day ? stored : { day, spent: 0, holds: {} };
    let expired = 0;
    for (const [id, hold] of Object.entries(ledger.holds)) {
      if (now <= (hold.until ?? hold.at + LEGACY_TTL_MS)) continue;
      delete ledger.holds[id];
      ledger.spent += hold.amount;
      ledger.expired = { ...ledger.expired, [id]: hold.amount };
      expired++;
    }
    return { ledger, expired };
  }

  /**
   * Holds `estimate` USD for at most `ttlMs`. Refused as `exhausted` when the day's spending has
   * reached `budget`; as `busy` when open holds leave no room for this one. A call with nothing
   * else open is let through while spending is below the budget even if its worst case does not
   * fit: the day then ends at most one call's worst case above the budget.
   */
  async reserve(estimate: number, budget: number, ttlMs: number): Promise<ReserveDecision> {
    const now = Date.now();
    const { ledger, expired } = await this.load(now);
    const open = Object.values(ledger.holds);
    const held = open.reduce((sum, h) => sum + h.amount, 0);
    if (ledger.spent >= budget || (open.length > 0 && ledger.spent + held + estimate > budget)) {
      if (expired > 0) await this.ctx.storage.put("ledger", ledger);
      const exhausted = ledger.spent >= budget;
      return {
        ok: false,
        reason: exhausted ? "exhausted" : "busy",
        retryAfter: exhausted ? secondsToNextUtcDay(now) : BUSY_RETRY_AFTER_S,
        spent: ledger.spent,
        held,
        expired,
      };
    }
    const id = crypto.randomUUID();
    ledger.holds[id] = { amount: estimate, at: now, until: now + ttlMs };
    await this.ctx.storage.put("ledger", ledger);
    return { ok: true, id, expired };
  }

  /**
   * Replaces a hold with the real cost: what OpenAI's usage says, the estimate when the call may
   * have been billed without saying, 0 when it never reached OpenAI. The full cost is charged,
   * above the hold too. Idempotent by id: an id neither open nor expired (settled already, or
   * from another day) changes nothing, so a recovery that settles again never charges twice.
   */
  async settle(id: string, cost: number): Promise<{ spent: number }> {
    const { ledger, expired } = await this.load(Date.now());
    const charged = ledger.expired?.[id];
    if (ledger.holds[id]) delete ledger.holds[id];
    else if (charged !== undefined && ledger.expired) {
      ledger.spent -= charged;
      delete ledger.expired[id];
    } else {
      if (expired > 0) await this.ctx.storage.put("ledger", ledger);
      return { spent: ledger.spent };
    }
    ledger.spent += cost;
    await this.ctx.storage.put("ledger", ledger);
    return { spent: ledger.spent };
  }
}

export function ledger(env: AppBindings): DurableObjectStub<BudgetLedger> {
  const ns = env.BUDGET as DurableObjectNamespace<BudgetLedger>;
  return ns.get(ns.idFromName("global"));
}
