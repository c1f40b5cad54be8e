import type { Context } from "hono";
import { parseConfig } from "../config";
import type { AppEnv } from "../env";
import { callRelay, describeEgress } from "../upstream/egress";

/** The relay's diagnostics make a few small calls to OpenAI; a public health URL must not
 * multiply them, so one answer serves this isolate for a minute. */
const RELAY_CHECK_TTL_MS = 60_000;
const PROBE_TIMEOUT_MS = 25_000;

let cachedRelayCheck: { at: number; value: Record<string, unknown> } | undefined;

/** Which settings are present. Booleans only: no value, not even a non-secret one, is echoed. */
function settingsPresent(env: AppEnv["Bindings"]) {
  const has = (v: unknown) => v !== undefined && v !== "";
  return {
    IMAGE_GENERATION_PROVIDER: has(env.IMAGE_GENERATION_PROVIDER),
    OPENAI_PROXY: has(env.OPENAI_PROXY),
    RELAY_TOKEN: has(env.RELAY_TOKEN),
    OPENAI_API_KEY: has(env.OPENAI_API_KEY),
    OPENAI_BASE_URL: has(env.OPENAI_BASE_URL),
    ACCESS_MODE: has(env.ACCESS_MODE),
    DAILY_BUDGET_USD: has(env.DAILY_BUDGET_USD),
    DEFAULT_MODEL: has(env.DEFAULT_MODEL),
    ALLOWED_MODELS: has(env.ALLOWED_MODELS),
    LOG_PROMPTS: has(env.LOG_PROMPTS),
    UPSTREAM_TIMEOUT_MS: has(env.UPSTREAM_TIMEOUT_MS),
    IMAGES: has(env.IMAGES),
    RELAY: has(env.RELAY),
  };
}

/** Asks the relay for its diagnostics (where its calls leave from, and OpenAI's verdict). */
async function checkRelay(c: Context<AppEnv>, config: NonNullable<ReturnType<typeof parseConfig>["config"]>) {
  const started = Date.now();
  try {
    const res = await callRelay(c.env, config, {
      method: "GET",
      path: "/_relay/diagnostics",
      requestId: c.get("requestId"),
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return { route: describeEgress(config), reachable: false, status: res.status, verdict: "unreachable" };
    }
    const report = (await res.json()) as {
      verdict?: string;
      key_configured?: boolean;
      placed?: { key_accepted?: boolean | null; models_status?: number | null };
    };
    return {
      route: describeEgress(config),
      reachable: true,
      ms: Date.now() - started,
      verdict: report.verdict ?? "unknown",
      key_configured: report.key_configured,
      // null when the relay has no key; then models_status says whether the upstream needs one.
      key_accepted: report.placed?.key_accepted ?? null,
      models_status: report.placed?.models_status ?? null,
    };
  } catch (err) {
    return {
      route: describeEgress(config),
      reachable: false,
      verdict: "unreachable",
      error: err instanceof Error ? err.name : "unknown",
    };
  }
}

/**
 * GET /api/health: the configuration state, whether the egress route answers and the relay's
 * region verdict. 200 when generation can work, 503 otherwise, so an uptime monitor can watch it.
 */
export async function health(c: Context<AppEnv>): Promise<Response> {
  const { config, problems } = parseConfig(c.env);
  const body: Record<string, unknown> = { status: "ok", settings: settingsPresent(c.env), problems };
  if (!config) {
    body.status = "misconfigured";
    return c.json(body, 503);
  }
  const now = Date.now();
  if (!cachedRelayCheck || now - cachedRelayCheck.at > RELAY_CHECK_TTL_MS) {
    const value = await checkRelay(c, config);
    // Only good news is cached: a failing relay is checked again on the next call.
    cachedRelayCheck = value.verdict === "ok" && value.key_accepted !== false ? { at: now, value } : undefined;
    body.egress = value;
  } else {
    body.egress = { ...cachedRelayCheck.value, cached: true };
  }
  const egress = body.egress as { verdict: string; key_accepted?: boolean | null };
  if (egress.verdict !== "ok")
    body.status = egress.verdict === "region_blocked" ? "region_blocked" : "egress_unreachable";
  else if (egress.key_accepted === false) body.status = "key_rejected";
  return c.json(body, body.status === "ok" ? 200 : 503);
}
