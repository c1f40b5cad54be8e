import type { Context } from "hono";
import { type AppConfig, loadConfig } from "../config";
import { diagnose, type RouteCheck } from "../egress";
import type { AppEnv } from "../env";

/**
 * The checks make a few small calls to OpenAI; a public health URL must not multiply them. One
 * answer serves this isolate for a minute when all is well and for 10 s when it is not (soon
 * enough to see a fix), and concurrent health calls share one check in flight.
 */
const CHECK_TTL_OK_MS = 60_000;
const CHECK_TTL_FAILED_MS = 10_000;
const PROBE_TIMEOUT_MS = 25_000;
/**
 * How long a check in flight is shared, and waited for by the calls sharing it. A check belongs
 * to the request that started it; should that request be cancelled, its check might never
 * finish, so others stop waiting and a later call starts a new one.
 */
const IN_FLIGHT_MS = 2 * PROBE_TIMEOUT_MS;

interface CachedCheck {
  /** Epoch ms until which the answer (or the check in flight) is reused. */
  until: number;
  checks: Promise<RouteCheck[]>;
}

const checks = new WeakMap<AppConfig, CachedCheck>();

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

/** Whether calls can work: the serving route answers and its key is not rejected. */
const healthy = (last: RouteCheck | undefined) => last?.verdict === "ok" && last.key_accepted !== false;

/** The routes' checks: the cached answer, the one in flight, or a new one. */
function egressChecks(c: Context<AppEnv>, config: AppConfig): { checks: Promise<RouteCheck[]>; cached: boolean } {
  const hit = checks.get(config);
  if (hit && Date.now() < hit.until) return { checks: hit.checks, cached: true };
  const entry: CachedCheck = {
    until: Date.now() + IN_FLIGHT_MS,
    checks: diagnose(c.env, config, c.get("requestId"), PROBE_TIMEOUT_MS),
  };
  checks.set(config, entry);
  const log = c.get("log");
  entry.checks.then(
    (done) => {
      entry.until = Date.now() + (healthy(done.at(-1)) ? CHECK_TTL_OK_MS : CHECK_TTL_FAILED_MS);
      for (const check of done.filter((d) => d.verdict !== "ok")) {
        log.warn(
          `Health check: egress route ${check.route_name} is ${check.verdict}: ${check.error ?? check.advice ?? ""}`,
          {
            route: check.route_name,
            failure: check.failure,
          },
        );
      }
    },
    () => checks.delete(config),
  );
  return { checks: entry.checks, cached: false };
}

const STATUS_OF: Record<RouteCheck["verdict"], string> = {
  ok: "ok",
  region_blocked: "region_blocked",
  unreachable: "egress_unreachable",
  misconfigured: "relay_misconfigured",
};

/** What an operator should know although calls can work. */
function warningsFor(all: RouteCheck[]): string[] {
  const last = all.at(-1);
  const warnings = all
    .slice(0, -1)
    .map(
      (r) =>
        `egress route ${r.route} is ${r.verdict} (${r.error ?? r.advice ?? "no details"}); calls go on to the next route`,
    );
  if (last?.verdict === "ok" && last.key_configured !== false && last.key_accepted === null) {
    warnings.push(
      `the key was not confirmed: GET /v1/models answered ${last.models_status ?? "nothing"} (neither 200 nor 401); generation may still work`,
    );
  }
  return warnings;
}

/**
 * GET /api/health: the configuration state, whether the egress routes answer and OpenAI's
 * verdict through them. 200 when generation can work (warnings say what is uncertain), 503
 * otherwise, so an uptime monitor can watch it. Never a 500: bad settings are listed by name.
 */
export async function health(c: Context<AppEnv>): Promise<Response> {
  const { config, problems } = loadConfig(c.env);
  const body: Record<string, unknown> = { status: "ok", settings: settingsPresent(c.env), problems };
  if (!config) {
    body.status = "misconfigured";
    return c.json(body, 503);
  }
  const { checks: pending, cached } = egressChecks(c, config);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, IN_FLIGHT_MS);
  });
  const all = await Promise.race([pending, stalled]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
  const last = all?.at(-1);
  if (!all || !last) {
    body.status = "egress_unreachable";
    body.egress = { reachable: false, verdict: "unreachable", error: "the check did not finish in time" };
    return c.json(body, 503);
  }
  body.egress = cached ? { ...last, cached: true } : last;
  if (all.length > 1) body.routes = all;
  body.warnings = warningsFor(all);
  body.status = last.verdict === "ok" && last.key_accepted === false ? "key_rejected" : STATUS_OF[last.verdict];
  return c.json(body, body.status === "ok" ? 200 : 503);
}
