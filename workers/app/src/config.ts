import type { AppBindings } from "./env";
import { ApiError } from "./errors";

export const DEFAULTS = {
  provider: "openai",
  defaultModel: "gpt-image-1-mini",
  allowedModels: ["gpt-image-2", "gpt-image-1.5", "gpt-image-1", "gpt-image-1-mini"],
  upstreamTimeoutMs: 5 * 60_000,
} as const;

/** How the app reaches the relay. */
export type EgressConfig = { kind: "binding" } | { kind: "relay_url"; baseUrl: string };

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

  const egress = parseEgress(env, problems);

  const timeoutText = env.UPSTREAM_TIMEOUT_MS?.trim();
  const upstreamTimeoutMs = timeoutText ? Number(timeoutText) : DEFAULTS.upstreamTimeoutMs;
  if (!Number.isInteger(upstreamTimeoutMs) || upstreamTimeoutMs <= 0) {
    problems.push({ setting: "UPSTREAM_TIMEOUT_MS", problem: "must be a positive whole number of milliseconds" });
  }

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

function parseEgress(env: AppBindings, problems: ConfigProblem[]): EgressConfig | undefined {
  const proxy = env.OPENAI_PROXY?.trim() ?? "";
  if (proxy === "" || proxy === "relay:") {
    if (!env.RELAY) {
      problems.push({ setting: "RELAY", problem: "service binding missing (needed while OPENAI_PROXY is unset)" });
      return undefined;
    }
    return { kind: "binding" };
  }
  let url: URL;
  try {
    url = new URL(proxy);
  } catch {
    problems.push({ setting: "OPENAI_PROXY", problem: "is not a URL; leave it unset to use the RELAY binding" });
    return undefined;
  }
  if (url.protocol !== "https:" || url.username || url.password || url.search || url.hash) {
    problems.push({
      setting: "OPENAI_PROXY",
      problem: "must be an https:// URL of a relay, without credentials or query",
    });
    return undefined;
  }
  if (!env.RELAY_TOKEN) {
    problems.push({ setting: "RELAY_TOKEN", problem: "required when OPENAI_PROXY is a relay URL" });
    return undefined;
  }
  return { kind: "relay_url", baseUrl: url.href.replace(/\/+$/, "") };
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
