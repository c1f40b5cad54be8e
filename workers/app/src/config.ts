import * as z from "zod/mini";
import { perEnv } from "../../shared/per-env";
import type { EgressRoute } from "./egress/routes";
import type { AppBindings } from "./env";
import { type ApiError, misconfigured } from "./errors";
import type { GuardSettings } from "./guard/settings";
import { DEFAULTS, settingsSchema } from "./settings";

export { DEFAULTS } from "./settings";

/** How the app reaches OpenAI: the routes in order, and the limits of each stage of a call. */
export interface EgressConfig {
  routes: EgressRoute[];
  /** Where proxy routes send calls (OPENAI_BASE_URL); relays use their own. */
  openaiBaseUrl: string;
  /** The key proxy routes send; relays hold their own. Set when a proxy route is configured. */
  openaiApiKey?: string;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  retryBudgetMs: number;
  coolOffMs: number;
}

/** The fair queue's settings (queue/): read by the dispatcher and by a generation's clock. */
export interface QueueLimitsConfig {
  /** `OPENAI_IMAGES_PER_MINUTE`: images per window; unset = learn it. */
  imagesPerMinute?: number;
  /** `MAX_CONCURRENT_GENERATIONS`: calls in flight at most; unset = no cap. */
  maxConcurrent?: number;
  /** `QUEUE_MAX_WAIT_S` (default 300). */
  maxWaitS: number;
  /** `QUEUE_MAX_LENGTH` (default 1000). */
  maxLength: number;
  /** The "minute" (`QUEUE_WINDOW_S`): 60 000 in production; tests shorten it to match a stand-in. */
  windowMs: number;
}

export interface AppConfig {
  provider: "openai";
  defaultModel: string;
  allowedModels: readonly string[];
  egress: EgressConfig;
  relayToken?: string;
  logPrompts: boolean;
  upstreamTimeoutMs: number;
  /** Who may call, how often, and the day's budget (guard/). */
  guard: GuardSettings;
  /** Milliseconds between keep-alive comments on a streamed generation. */
  streamHeartbeatMs: number;
  /** Milliseconds a generation's record is kept after it ends (GENERATION_TTL_HOURS). */
  generationTtlMs: number;
  queue: QueueLimitsConfig;
}

/** A setting that is missing or wrong. Names the setting, never its value (it may be a secret). */
export interface ConfigProblem {
  setting: string;
  problem: string;
}

/**
 * Parses every setting (settings.ts) and checks the ones that depend on each other; returns every
 * problem at once so an operator fixes them in one go. No config when there is any problem.
 */
export function parseConfig(env: AppBindings): { config?: AppConfig; problems: ConfigProblem[] } {
  const parsed = z.safeParse(settingsSchema, env);
  const problems: ConfigProblem[] = (parsed.error?.issues ?? []).map((issue) => ({
    setting: String(issue.path[0] ?? "?"),
    problem: issue.message,
  }));
  if (!parsed.success) {
    // The dependent checks below still run on the settings that parsed, for a complete list.
    const failed = new Set(problems.map((p) => p.setting));
    const rest = z.safeParse(settingsSchema, {
      ...env,
      ...Object.fromEntries([...failed].map((name) => [name, undefined])),
    });
    if (rest.success) dependentProblems(rest.data, env, problems, failed);
    return { problems };
  }
  const s = parsed.data;
  dependentProblems(s, env, problems, new Set());
  if (problems.length > 0) return { problems };
  const kinds = new Set(s.OPENAI_PROXY.map((r) => r.kind));
  return {
    problems,
    config: {
      provider: "openai",
      defaultModel: s.DEFAULT_MODEL ?? DEFAULTS.defaultModel,
      allowedModels: s.ALLOWED_MODELS,
      egress: {
        routes: s.OPENAI_PROXY,
        openaiBaseUrl: s.OPENAI_BASE_URL,
        openaiApiKey: kinds.has("proxy") ? s.OPENAI_API_KEY : undefined,
        connectTimeoutMs: s.EGRESS_CONNECT_TIMEOUT_MS,
        headersTimeoutMs: s.EGRESS_HEADERS_TIMEOUT_MS || s.UPSTREAM_TIMEOUT_MS,
        idleTimeoutMs: s.EGRESS_IDLE_TIMEOUT_MS,
        retryBudgetMs: s.EGRESS_RETRY_BUDGET_MS,
        coolOffMs: s.EGRESS_COOLOFF_MS,
      },
      relayToken: s.RELAY_TOKEN,
      logPrompts: s.LOG_PROMPTS === "true",
      upstreamTimeoutMs: s.UPSTREAM_TIMEOUT_MS,
      guard: {
        accessMode: s.ACCESS_MODE,
        allowedOrigins: s.ALLOWED_ORIGINS,
        perMinute: s.RATE_LIMIT_PER_MINUTE,
        perDay: s.RATE_LIMIT_PER_DAY,
        dailyBudgetUsd: s.DAILY_BUDGET_USD,
        prices: s.PRICE_TABLE,
      },
      streamHeartbeatMs: s.STREAM_HEARTBEAT_MS,
      generationTtlMs: Math.round(s.GENERATION_TTL_HOURS * 3_600_000),
      queue: {
        imagesPerMinute: s.OPENAI_IMAGES_PER_MINUTE,
        maxConcurrent: s.MAX_CONCURRENT_GENERATIONS,
        maxWaitS: s.QUEUE_MAX_WAIT_S,
        maxLength: s.QUEUE_MAX_LENGTH,
        windowMs: s.QUEUE_WINDOW_S * 1000,
      },
    },
  };
}

/** Checks between settings, and the bindings the configured routes need. */
function dependentProblems(
  s: z.infer<typeof settingsSchema>,
  env: AppBindings,
  problems: ConfigProblem[],
  failed: ReadonlySet<string>,
): void {
  const add = (setting: string, problem: string) => {
    if (!problems.some((p) => p.setting === setting)) problems.push({ setting, problem });
  };
  if (!s.ALLOWED_MODELS.includes(s.DEFAULT_MODEL ?? DEFAULTS.defaultModel)) {
    add("DEFAULT_MODEL", "must be one of ALLOWED_MODELS");
  }
  // Which routes are configured is unknown while OPENAI_PROXY itself is wrong.
  if (failed.has("OPENAI_PROXY")) return;
  const kinds = new Set(s.OPENAI_PROXY.map((r: EgressRoute) => r.kind));
  if (kinds.has("binding") && !env.RELAY) {
    add("RELAY", "service binding missing (needed while OPENAI_PROXY is unset or has relay:)");
  }
  if (kinds.has("relay_url") && !s.RELAY_TOKEN) add("RELAY_TOKEN", "required when OPENAI_PROXY is a relay URL");
  if (kinds.has("proxy") && !s.OPENAI_API_KEY) {
    add("OPENAI_API_KEY", "required when OPENAI_PROXY has an http:// proxy (the app then calls OpenAI itself)");
  }
}

/** The problems in the words of a config_error: "A must be …; B must be …". */
export function configError(problems: readonly ConfigProblem[]): ApiError {
  return misconfigured(problems.map((p) => `${p.setting} ${p.problem}`).join("; "));
}

/**
 * parseConfig's answer, parsed once per env object (the runtime hands every request of an
 * isolate the same one, so the hot path pays a WeakMap lookup).
 */
export const loadConfig: (env: AppBindings) => { config?: AppConfig; problems: ConfigProblem[] } = perEnv((env) =>
  parseConfig(env as AppBindings),
);

/** The parsed config, or a config_error that names each bad setting. */
export function getConfig(env: AppBindings): AppConfig {
  const { config, problems } = loadConfig(env);
  if (!config) throw configError(problems);
  return config;
}

/** The fair queue's settings (queue/dispatcher.ts); a config_error like `getConfig`'s when any setting is wrong. */
export function queueConfig(env: AppBindings): QueueLimitsConfig {
  return getConfig(env).queue;
}
