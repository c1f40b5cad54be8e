import { DurableObject } from "cloudflare:workers";
import type { AppBindings } from "../env";
import { secondsToNextUtcDay, utcDay } from "./settings";

/** A reservation not settled by then belongs to a call that died; its hold is released. */
const RESERVATION_TTL_MS = 15 * 60_000;

export type ReserveDecision = { ok: true; id: string } | { ok: false; retryAfter: number };

interface Ledger {
  day: string;
  spent: number;
  holds: Record<string, { amount: number; at: number }>;
}

/**
 * The operator's spending for the current UTC day, in one object for the whole deployment.
 * Each call first holds its estimated cost (so many calls at once can't all slip under the
 * budget), then settles to what OpenAI's usage says it cost. Stored durably: a restart or a new
 * deploy does not reset the day.
 */
export class BudgetLedger extends DurableObject<AppBindings> {
  private async load(now: number): Promise<Ledger> {
    const day = utcDay(now);
    const ledger = (await this.ctx.storage.get<Ledger>("ledger")) ?? { day, spent: 0, holds: {} };
    if (ledger.day !== day) return { day, spent: 0, holds: {} };
    for (const [id, hold] of Object.entries(ledger.holds)) {
      if (now - hold.at > RESERVATION_TTL_MS) delete ledger.holds[id];
    }
    return ledger;
  }

  /** Holds `estimate` USD if the day's spending plus open holds stays within `budget`. */
  async reserve(estimate: number, budget: number): Promise<ReserveDecision> {
    const now = Date.now();
    const ledger = await this.load(now);
    const held = Object.values(ledger.holds).reduce((sum, h) => sum + h.amount, 0);
    if (ledger.spent >= budget || ledger.spent + held + estimate > budget) {
      return { ok: false, retryAfter: secondsToNextUtcDay(now) };
    }
    const id = crypto.randomUUID();
    ledger.holds[id] = { amount: estimate, at: now };
    await this.ctx.storage.put("ledger", ledger);
    return { ok: true, id };
  }

  /** Replaces a hold with the real cost (0 when the call failed before anything was billed). */
  async settle(id: string, cost: number): Promise<{ spent: number }> {
    const ledger = await this.load(Date.now());
    delete ledger.holds[id];
    ledger.spent += cost;
    await this.ctx.storage.put("ledger", ledger);
    return { spent: ledger.spent };
  }
}

export function ledger(env: AppBindings): DurableObjectStub<BudgetLedger> {
  const ns = env.BUDGET as DurableObjectNamespace<BudgetLedger>;
  return ns.get(ns.idFromName("global"));
}
