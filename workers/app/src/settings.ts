/**
 * Every setting of the app as one schema: text in (a var or a secret), typed value out, or a
 * problem filed under the setting's name. zod collects the problems of all settings at once, so
 * an operator fixes them in one go; messages say what the value must be, never what it was (it
 * may be a secret). Settings that depend on each other are checked in config.ts.
 */
import * as z from "zod/mini";
import { type EgressRoute, parseRoutes } from "./egress/routes";
import { DEFAULT_PRICES, type PriceTable, parsePriceTable } from "./guard/pricing";

export const DEFAULTS = {
  provider: "openai",
  defaultModel: "gpt-image-1-mini",
  allowedModels: ["gpt-image-2", "gpt-image-1.5", "gpt-image-1", "gpt-image-1-mini"],
  upstreamTimeoutMs: 5 * 60_000,
  openaiBaseUrl: "https://api.openai.com",
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  retryBudgetMs: 30_000,
  coolOffMs: 60_000,
  perMinute: 10,
  perDay: 100,
  /** Intermediaries cut idle connections after 100-120 s; a generation can take two minutes. */
  streamHeartbeatMs: 10_000,
  queueMaxWaitS: 300,
  queueMaxLength: 1000,
  /** OpenAI counts images per minute; another window only for a server that counts otherwise. */
  queueWindowS: 60,
  /** Generation records are kept this long after they end, like idempotency keys (24 h). */
  generationTtlHours: 24,
} as const;

/** What a parse gives: the value, or what the setting must be. */
type Parsed<T> = { value: T } | { problem: string };

/**
 * A setting read from its text. Unset or blank means `fallback`; otherwise `parse` returns the
 * value or a problem saying what the setting must be. Wrangler passes vars written as TOML
 * numbers or booleans as such, so those are read as their text.
 */
function setting<T>(fallback: T, parse: (text: string) => Parsed<T>) {
  return z.pipe(
    z.optional(z.unknown()),
    z.transform((value: unknown, ctx): T => {
      if (value !== undefined && value !== null && !["string", "number", "boolean"].includes(typeof value)) {
        ctx.issues.push({ code: "custom", message: "must be text, not a binding", input: "" });
        return z.NEVER;
      }
      const text = value === undefined || value === null ? "" : String(value).trim();
      if (text === "") return fallback;
      const parsed = parse(text);
      if ("problem" in parsed) {
        // `input` stays empty: zod would otherwise keep the value, which may be a secret.
        ctx.issues.push({ code: "custom", message: parsed.problem, input: "" });
        return z.NEVER;
      }
      return parsed.value;
    }),
  );
}

/** A setting whose text is its value. */
const text = (fallback: string | undefined = undefined) => setting<string | undefined>(fallback, (t) => ({ value: t }));

const list = (fallback: readonly string[], clean = (s: string) => s) =>
  setting<readonly string[]>(fallback, (t) => ({
    value: t
      .split(",")
      .map((s) => clean(s.trim()))
      .filter(Boolean),
  }));

/** A whole number, at least `min`. */
const whole = (fallback: number, min: number, what: string) =>
  setting<number>(fallback, (t) => {
    const n = Number(t);
    return Number.isInteger(n) && n >= min ? { value: n } : { problem: `must be ${what}` };
  });

/** A whole number, at least 1, or unset (undefined). */
const optionalPositive = (what: string) =>
  setting<number | undefined>(undefined, (t) => {
    const n = Number(t);
    return Number.isInteger(n) && n >= 1 ? { value: n } : { problem: `must be ${what}` };
  });

const ms = (fallback: number, min: number) => whole(fallback, min, `a whole number of milliseconds, at least ${min}`);

function oneOf<const T extends string>(choices: readonly T[], fallback: T) {
  return setting<T>(fallback, (t) => {
    const lower = t.toLowerCase() as T;
    return choices.includes(lower)
      ? { value: lower }
      : { problem: `must be ${choices.map((c) => `"${c}"`).join(" or ")}` };
  });
}

/** OPENAI_BASE_URL for proxy routes: http(s), no credentials or query; a path prefix is kept. */
function baseUrl(t: string): Parsed<string> {
  let url: URL | undefined;
  try {
    url = new URL(t);
  } catch {
    url = undefined;
  }
  if (!url || !["http:", "https:"].includes(url.protocol) || url.username || url.password || url.search || url.hash) {
    return { problem: "must be an http(s):// URL without credentials or query" };
  }
  return { value: url.href.replace(/\/+$/, "") };
}

/** OPENAI_PROXY: every bad entry is a problem of its own, named by position. */
const routes = z.pipe(
  text(),
  z.transform((value: string | undefined, ctx): EgressRoute[] => {
    const parsed = parseRoutes(value);
    for (const p of parsed.problems)
      ctx.issues.push({ code: "custom", message: `entry ${p.entry} ${p.problem}`, input: "" });
    return parsed.problems.length > 0 ? z.NEVER : parsed.routes;
  }),
);

const dollars = setting<number | undefined>(undefined, (t) => {
  const n = Number(t);
  return Number.isFinite(n) && n >= 0 ? { value: n } : { problem: "must be a number of dollars, 0 or more" };
});

/** The fair queue's settings (queue/dispatcher.ts; `queue` in config.ts). */
export function queueSettings() {
  return {
    /** Unset: the queue learns the limit from OpenAI's answers. */
    OPENAI_IMAGES_PER_MINUTE: optionalPositive("a whole number of images, at least 1"),
    MAX_CONCURRENT_GENERATIONS: optionalPositive("a whole number of calls, at least 1"),
    QUEUE_MAX_WAIT_S: whole(DEFAULTS.queueMaxWaitS, 1, "a whole number of seconds, at least 1"),
    QUEUE_MAX_LENGTH: whole(DEFAULTS.queueMaxLength, 1, "a whole number of generations, at least 1"),
    /** The length of the rate window; 60 except against a server that counts over another one. */
    QUEUE_WINDOW_S: whole(DEFAULTS.queueWindowS, 1, "a whole number of seconds, at least 1"),
  };
}

/** The schema; its keys are the settings' names as the operator writes them. */
export const settingsSchema = z.object({
  IMAGE_GENERATION_PROVIDER: oneOf(["openai"], "openai"),
  ALLOWED_MODELS: list(DEFAULTS.allowedModels),
  DEFAULT_MODEL: text(DEFAULTS.defaultModel),
  UPSTREAM_TIMEOUT_MS: whole(DEFAULTS.upstreamTimeoutMs, 1, "a positive whole number of milliseconds"),
  LOG_PROMPTS: oneOf(["true", "false"], "false"),
  OPENAI_PROXY: routes,
  OPENAI_BASE_URL: setting<string>(DEFAULTS.openaiBaseUrl, baseUrl),
  OPENAI_API_KEY: text(),
  RELAY_TOKEN: text(),
  EGRESS_CONNECT_TIMEOUT_MS: ms(DEFAULTS.connectTimeoutMs, 1),
  /** Unset: UPSTREAM_TIMEOUT_MS (config.ts). */
  EGRESS_HEADERS_TIMEOUT_MS: whole(0, 1, "a whole number of milliseconds, at least 1"),
  EGRESS_IDLE_TIMEOUT_MS: ms(DEFAULTS.idleTimeoutMs, 1),
  EGRESS_RETRY_BUDGET_MS: ms(DEFAULTS.retryBudgetMs, 0),
  EGRESS_COOLOFF_MS: ms(DEFAULTS.coolOffMs, 0),
  ACCESS_MODE: oneOf(["open", "tokens"], "open"),
  ALLOWED_ORIGINS: list([], (s) => s.replace(/\/+$/, "")),
  RATE_LIMIT_PER_MINUTE: whole(DEFAULTS.perMinute, 0, "a whole number (0: no limit)"),
  RATE_LIMIT_PER_DAY: whole(DEFAULTS.perDay, 0, "a whole number (0: no limit)"),
  DAILY_BUDGET_USD: dollars,
  PRICE_TABLE: setting<PriceTable>(DEFAULT_PRICES, (t) => {
    const table = parsePriceTable(t);
    return typeof table === "string" ? { problem: table } : { value: table };
  }),
  STREAM_HEARTBEAT_MS: ms(DEFAULTS.streamHeartbeatMs, 1),
  /** Hours a generation's record is kept after it ends; fractions allowed (tests use seconds). */
  GENERATION_TTL_HOURS: setting<number>(DEFAULTS.generationTtlHours, (t) => {
    const n = Number(t);
    return Number.isFinite(n) && n > 0 ? { value: n } : { problem: "must be a number of hours, more than 0" };
  }),
  ...queueSettings(),
});

export type Settings = z.infer<typeof settingsSchema>;
