import { keyVerdict, parseOpenAIError, REGION_BLOCK_CODE } from "../../shared/openai-wire";
import type { RelayDiagnostics, RelayPathReport, RelayVerdict } from "../../shared/relay-protocol";
import type { RelayEnv } from "./env";
import { FALLBACK_LOCATION, fallbackEgress } from "./fallback";
import { type Operator, operatorHeaders } from "./headers";
import { operatorOf, relaySettings } from "./settings";

/** Each probe is small and free; none may hold the answer up for long. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Countries OpenAI's API refuses (its "supported countries" list leaves them out). A hint only:
 * the models probe below, answered by OpenAI itself, decides when it gets an answer.
 */
const REFUSED_COUNTRIES = new Set(["RU", "BY", "CN", "HK", "MO", "IR", "KP", "SY", "CU"]);

interface Trace {
  loc?: string;
  colo?: string;
}

type Fetcher = (url: string, init?: RequestInit) => Promise<Response>;

/** Where OpenAI's edge sees us: its Cloudflare trace page, key=value lines. */
async function trace(send: Fetcher, base: string): Promise<Trace | undefined> {
  try {
    const res = await send(`${base}/cdn-cgi/trace`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    const fields = Object.fromEntries(
      (await res.text()).split("\n").map((line) => line.split("=", 2) as [string, string]),
    );
    return { loc: fields.loc, colo: fields.colo };
  } catch {
    return undefined;
  }
}

/**
 * GET /v1/models costs nothing and is refused exactly like a generation would be: with the same
 * key, organisation and project, so a wrong OPENAI_ORGANIZATION shows here too.
 */
async function probeModels(send: Fetcher, base: string, operator: Operator) {
  try {
    // The operator's own billing headers, by the same rule as a call (none without its key).
    const res = await send(`${base}/v1/models`, {
      headers: operatorHeaders(operator),
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    const code = res.ok ? undefined : parseOpenAIError(await res.text()).code;
    if (res.ok) await res.body?.cancel();
    return { status: res.status, regionBlocked: res.status === 403 && code === REGION_BLOCK_CODE };
  } catch {
    return undefined;
  }
}

/** Everything an operator needs to know about one egress path, with a verdict. */
async function checkPath(send: Fetcher, operator: Operator, base: string): Promise<RelayPathReport> {
  const [seen, models] = await Promise.all([trace(send, base), probeModels(send, base, operator)]);
  let verdict: RelayVerdict;
  if (!seen && !models) verdict = "unreachable";
  else if (models?.regionBlocked || (models === undefined && REFUSED_COUNTRIES.has(seen?.loc ?? ""))) {
    verdict = "region_blocked";
  } else verdict = "ok";
  return {
    verdict,
    egress_location: seen?.loc ?? null,
    egress_colo: seen?.colo ?? null,
    upstream_answered: models !== undefined || seen !== undefined,
    models_status: models?.status ?? null,
    // 200 accepted, 401 rejected; any other answer (a 404 from a server without /v1/models, a
    // restricted key's 403, 429, 5xx) confirms nothing: null, as without a key.
    key_accepted: operator.apiKey && models && !models.regionBlocked ? keyVerdict(models.status) : null,
  };
}

/**
 * GET RELAY_DIAGNOSTICS_PATH: where the relay runs, where its calls leave from as OpenAI sees them,
 * and a verdict. Always 200 when the relay itself works; the verdict carries the bad news.
 */
export async function diagnostics(request: Request, env: RelayEnv): Promise<Response> {
  const cf = request.cf as { colo?: string } | undefined;
  const relay = { colo: cf?.colo ?? null, placement: request.headers.get("cf-placement") };
  const { settings, problems } = relaySettings(env);
  if (!settings) {
    // Nothing is probed with settings that calls would refuse; the problems say what to fix.
    return Response.json({
      verdict: "misconfigured" as const,
      relay,
      key_configured: Boolean(env.OPENAI_API_KEY),
      problems,
      placed: null,
      fallback: null,
    } satisfies RelayDiagnostics);
  }
  const base = settings.openaiBaseUrl;
  const operator = operatorOf(env);
  const fallback = fallbackEgress(env, settings);
  const [placed, viaFallback] = await Promise.all([
    checkPath((url, init) => fetch(url, init), operator, base),
    fallback ? checkPath((url, init) => fallback.fetch(url, init), operator, base) : Promise.resolve(null),
  ]);
  return Response.json({
    verdict: placed.verdict,
    relay,
    key_configured: Boolean(env.OPENAI_API_KEY),
    placed,
    fallback: viaFallback ? { location: FALLBACK_LOCATION, ...viaFallback } : null,
  } satisfies RelayDiagnostics);
}
