import type { AppBindings } from "../env";
import { ApiError } from "../errors";
import { type PriceTable, parsePriceTable } from "./pricing";

/**
 * Settings of the public endpoint's guards: who may call, from which origins, how often, and
 * how much the operator is willing to spend per day.
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

export const GUARD_DEFAULTS = { perMinute: 10, perDay: 100 } as const;

const cache = new WeakMap<object, GuardSettings>();

function limit(value: string | undefined, fallback: number, setting: string): number {
  if (value === undefined || value.trim() === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new ApiError("config_error", `The server is misconfigured: ${setting} must be a whole number (0: no limit).`);
  }
  return n;
}

/** Parsed once per env object; a bad value is a config_error naming the setting. */
export function guardSettings(env: AppBindings): GuardSettings {
  const cached = cache.get(env);
  if (cached) return cached;
  const mode = (env.ACCESS_MODE ?? "").trim() || "open";
  if (mode !== "open" && mode !== "tokens") {
    throw new ApiError("config_error", 'The server is misconfigured: ACCESS_MODE must be "open" or "tokens".');
  }
  let dailyBudgetUsd: number | undefined;
  if (env.DAILY_BUDGET_USD?.trim()) {
    dailyBudgetUsd = Number(env.DAILY_BUDGET_USD);
    if (!Number.isFinite(dailyBudgetUsd) || dailyBudgetUsd < 0) {
      throw new ApiError("config_error", "The server is misconfigured: DAILY_BUDGET_USD must be a number of dollars.");
    }
  }
  const settings: GuardSettings = {
    accessMode: mode,
    allowedOrigins: (env.ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((s) => s.trim().replace(/\/+$/, ""))
      .filter(Boolean),
    perMinute: limit(env.RATE_LIMIT_PER_MINUTE, GUARD_DEFAULTS.perMinute, "RATE_LIMIT_PER_MINUTE"),
    perDay: limit(env.RATE_LIMIT_PER_DAY, GUARD_DEFAULTS.perDay, "RATE_LIMIT_PER_DAY"),
    dailyBudgetUsd,
    prices: parsePriceTable(env.PRICE_TABLE),
  };
  cache.set(env, settings);
  return settings;
}

/** Seconds until the next UTC day, when daily counters start again. */
export function secondsToNextUtcDay(now = Date.now()): number {
  const next = new Date(now);
  next.setUTCHours(24, 0, 0, 0);
  return Math.max(1, Math.ceil((next.getTime() - now) / 1000));
}

export const utcDay = (now = Date.now()) => new Date(now).toISOString().slice(0, 10);
