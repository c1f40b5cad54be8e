import type { PriceTable } from "./pricing";

/**
 * Settings of the public endpoint's guards: who may call, from which origins, how often, and
 * how much the operator is willing to spend per day. Parsed with every other setting
 * (settings.ts, config.ts): `getConfig(env).guard`.
 */
export interface GuardSettings {
  accessMode: "open" | "tokens";
  /** Origins whose pages may call the API from a browser, besides the app's own. */
  allowedOrigins: readonly string[];
  perMinute: number;
  perDay: number;
  /** USD per UTC day; undefined means no budget. */
  dailyBudgetUsd?: number;
  prices: PriceTable;
}

/** Seconds until the next UTC day, when daily counters start again. */
export function secondsToNextUtcDay(now = Date.now()): number {
  const next = new Date(now);
  next.setUTCHours(24, 0, 0, 0);
  return Math.max(1, Math.ceil((next.getTime() - now) / 1000));
}

export const utcDay = (now = Date.now()) => new Date(now).toISOString().slice(0, 10);
