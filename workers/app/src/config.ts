import { type EgressRoute, parseRoutes } from "./egress/routes";
import type { AppBindings } from "./env";
import { ApiError } from "./errors";

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
} as const;

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

export interface AppConfig {
  provider: "openai";
  defaultModel: string;
  allowedModels: readonly string[];
  egress: EgressConfig;
  relayToken?: string;
  logPrompts: boolean;
  upstreamTimeoutMs: number;
}

/** A setting that is missing or wrong. Names the setting, never its value (it may be a secret). */
export interface ConfigProblem {
  setting: string;
  problem: string;
}

const list = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** Parses the settings; returns every problem at once so an operator fixes them in one go. */
export function parseConfig(env: AppBindings): { config?: AppConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];

  const provider = (env.IMAGE_GENERATION_PROVIDER ?? "").trim() || DEFAULTS.provider;
  if (provider !== "openai") {
    problems.push({ setting: "IMAGE_GENERATION_PROVIDER", problem: 'only "openai" is supported' });
  }

  const allowedModels = env.ALLOWED_MODELS?.trim() ? list(env.ALLOWED_MODELS) : [...DEFAULTS.allowedModels];
  const defaultModel = env.DEFAULT_MODEL?.trim() || DEFAULTS.defaultModel;
  if (!allowedModels.includes(defaultModel)) {
    problems.push({ setting: "DEFAULT_MODEL", problem: "must be one of ALLOWED_MODELS" });
  }

  const timeoutText = env.UPSTREAM_TIMEOUT_MS?.trim();
  const upstreamTimeoutMs = timeoutText ? Number(timeoutText) : DEFAULTS.upstreamTimeoutMs;
  if (!Number.isInteger(upstreamTimeoutMs) || upstreamTimeoutMs <= 0) {
    problems.push({ setting: "UPSTREAM_TIMEOUT_MS", problem: "must be a positive whole number of milliseconds" });
  }

  const egress = parseEgress(env, problems, upstreamTimeoutMs);

  if (problems.length > 0 || !egress) return { problems };
  return {
    problems,
    config: {
      provider: "openai",
      defaultModel,
      allowedModels,
      egress,
      relayToken: env.RELAY_TOKEN || undefined,
      logPrompts: env.LOG_PROMPTS?.trim().toLowerCase() === "true",
      upstreamTimeoutMs,
    },
  };
}

function parseEgress(env: AppBindings, problems: ConfigProblem[], upstreamTimeoutMs: number): EgressConfig | undefined {
  const before = problems.length;
  const { routes, problems: entryProblems } = parseRoutes(env.OPENAI_PROXY);
  for (const p of entryProblems) problems.push({ setting: "OPENAI_PROXY", problem: `entry ${p.entry} ${p.problem}` });

  const kinds = new Set(routes.map((r) => r.kind));
  if (kinds.has("binding") && !env.RELAY) {
    problems.push({
      setting: "RELAY",
      problem: "service binding missing (needed while OPENAI_PROXY is unset or has relay:)",
    });
  }
  if (kinds.has("relay_url") && !env.RELAY_TOKEN) {
    problems.push({ setting: "RELAY_TOKEN", problem: "required when OPENAI_PROXY is a relay URL" });
  }
  if (kinds.has("proxy") && !env.OPENAI_API_KEY) {
    problems.push({
      setting: "OPENAI_API_KEY",
      problem: "required when OPENAI_PROXY has an http:// proxy (the app then calls OpenAI itself)",
    });
  }
  const openaiBaseUrl = parseBaseUrl(env.OPENAI_BASE_URL, problems);
  const ms = (setting: keyof AppBindings, fallback: number, min: number) =>
    msSetting(env[setting] as string | undefined, setting, fallback, min, problems);
  const egress: EgressConfig = {
    routes,
    openaiBaseUrl: openaiBaseUrl ?? DEFAULTS.openaiBaseUrl,
    openaiApiKey: kinds.has("proxy") ? env.OPENAI_API_KEY : undefined,
    connectTimeoutMs: ms("EGRESS_CONNECT_TIMEOUT_MS", DEFAULTS.connectTimeoutMs, 1),
    headersTimeoutMs: ms("EGRESS_HEADERS_TIMEOUT_MS", upstreamTimeoutMs, 1),
    idleTimeoutMs: ms("EGRESS_IDLE_TIMEOUT_MS", DEFAULTS.idleTimeoutMs, 1),
    retryBudgetMs: ms("EGRESS_RETRY_BUDGET_MS", DEFAULTS.retryBudgetMs, 0),
    coolOffMs: ms("EGRESS_COOLOFF_MS", DEFAULTS.coolOffMs, 0),
  };
  return problems.length > before ? undefined : egress;
}

/** OPENAI_BASE_URL for proxy routes: http(s), no credentials or query; a path prefix is kept. */
function parseBaseUrl(value: string | undefined, problems: ConfigProblem[]): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !["http:", "https:"].includes(url.protocol) || url.username || url.password || url.search || url.hash) {
    problems.push({ setting: "OPENAI_BASE_URL", problem: "must be an http(s):// URL without credentials or query" });
    return undefined;
  }
  return url.href.replace(/\/+$/, "");
}

/** A whole number of milliseconds, at least `min`; the default when unset. */
function msSetting(
  value: string | undefined,
  setting: string,
  fallback: number,
  min: number,
  problems: ConfigProblem[],
): number {
  const text = value?.trim();
  if (!text) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    problems.push({ setting, problem: `must be a whole number of milliseconds, at least ${min}` });
    return fallback;
  }
  return n;
}

const cache = new WeakMap<object, AppConfig>();

/** The parsed config, or a config_error that names each bad setting. Parsed once per env object. */
export function getConfig(env: AppBindings): AppConfig {
  const cached = cache.get(env);
  if (cached) return cached;
  const { config, problems } = parseConfig(env);
  if (!config) {
    const detail = problems.map((p) => `${p.setting} ${p.problem}`).join("; ");
    throw new ApiError("config_error", `The server is misconfigured: ${detail}.`);
  }
  cache.set(env, config);
  return config;
}
