import type { Context } from "hono";
import { parseConfig } from "../config";
import type { AppEnv } from "../env";
import { callRelay, describeEgress } from "../upstream/egress";

const PROBE_TIMEOUT_MS = 5_000;

/** Which settings are present. Booleans only: no value, not even a non-secret one, is echoed. */
function settingsPresent(env: AppEnv["Bindings"]) {
  const has = (v: unknown) => v !== undefined && v !== "";
  return {
    IMAGE_GENERATION_PROVIDER: has(env.IMAGE_GENERATION_PROVIDER),
    OPENAI_PROXY: has(env.OPENAI_PROXY),
    RELAY_TOKEN: has(env.RELAY_TOKEN),
    DEFAULT_MODEL: has(env.DEFAULT_MODEL),
    ALLOWED_MODELS: has(env.ALLOWED_MODELS),
    LOG_PROMPTS: has(env.LOG_PROMPTS),
    UPSTREAM_TIMEOUT_MS: has(env.UPSTREAM_TIMEOUT_MS),
    IMAGES: has(env.IMAGES),
    RELAY: has(env.RELAY),
  };
}

/**
 * GET /api/health: the configuration state and whether the egress route answers. 200 when
 * generation can work, 503 otherwise, so an uptime monitor can watch it.
 */
export async function health(c: Context<AppEnv>): Promise<Response> {
  const { config, problems } = parseConfig(c.env);
  const body: Record<string, unknown> = {
    status: "ok",
    settings: settingsPresent(c.env),
    problems,
  };
  if (!config) {
    body.status = "misconfigured";
    return c.json(body, 503);
  }

  const started = Date.now();
  let egress: Record<string, unknown>;
  try {
    const res = await callRelay(c.env, config, {
      method: "GET",
      path: "/_relay/health",
      requestId: c.get("requestId"),
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    const relay = res.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
    if (!res.ok) await res.body?.cancel();
    egress = {
      route: describeEgress(config),
      reachable: res.ok,
      status: res.status,
      ms: Date.now() - started,
      key_configured: relay?.key_configured,
    };
  } catch (err) {
    egress = { route: describeEgress(config), reachable: false, error: err instanceof Error ? err.name : "unknown" };
  }
  body.egress = egress;
  if (!egress.reachable) body.status = "egress_unreachable";
  return c.json(body, body.status === "ok" ? 200 : 503);
}
