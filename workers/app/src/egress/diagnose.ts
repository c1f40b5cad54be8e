/**
 * The checks behind /api/health, one per route. A relay answers for itself (RELAY_DIAGNOSTICS_PATH);
 * a proxy route has no relay, so the app asks OpenAI directly through the tunnel: GET /v1/models
 * costs nothing and is refused exactly as a generation would be (a region block, a wrong key).
 * Checks never count toward a route's cool-off: a public health URL must not be able to take a
 * route out of service.
 */
import type { Logger } from "../../../shared/log";
import { keyVerdict, parseOpenAIError, REGION_BLOCK_CODE } from "../../../shared/openai-wire";
import { readTextLimited } from "../../../shared/read-limited";
import { RELAY_DIAGNOSTICS_PATH, RELAY_ERROR_TYPE, type RelayDiagnostics } from "../../../shared/relay-protocol";
import type { AppConfig } from "../config";
import type { AppBindings } from "../env";
import { callThroughProxy } from "./proxy-call";
import { regionAdvice } from "./region-advice";
import { callThroughRelay } from "./relay-call";
import { describeRoutes, type EgressRoute, type ProxyRoute } from "./routes";
import type { PreparedCall } from "./types";
import { EgressFailure, RouteError } from "./types";

/** What one route's check found, in the shape /api/health reports. */
export interface RouteCheck {
  /** In words, e.g. "proxy 10.0.0.1:3128". */
  route: string;
  route_name: string;
  route_kind: EgressRoute["kind"];
  reachable: boolean;
  verdict: "ok" | "region_blocked" | "unreachable" | "misconfigured";
  ms: number;
  /** Why the route could not be used, in words (never a credential). */
  error?: string;
  /** The RouteError kind, or "timeout" / "no_answer" / "refused". */
  failure?: string;
  /** The HTTP status of a relay that refused the check. */
  status?: number;
  key_configured?: boolean;
  /** true accepted, false rejected (401), null not confirmed (or no key). */
  key_accepted?: boolean | null;
  models_status?: number | null;
  /** For a region block: what to do for this route. */
  advice?: string;
  /** A relay's own settings problems (its diagnostics report them). */
  problems?: unknown;
}

/** A check's findings, before the route's name and timing are added. */
type Findings = Omit<RouteCheck, "ms" | "route" | "route_name" | "route_kind">;

/** Checks never log through the request's logger: their failures are reported, not billed. */
const QUIET: Logger = { info() {}, warn() {}, error() {}, with: () => QUIET, redact: (text) => text };

/**
 * Checks the routes in order, as a call would use them, and stops at the first that works:
 * the last entry is the route that would serve calls (or the last one tried).
 */
export async function diagnose(
  env: AppBindings,
  config: AppConfig,
  requestId: string,
  timeoutMs: number,
): Promise<RouteCheck[]> {
  const checks: RouteCheck[] = [];
  for (const route of config.egress.routes) {
    const check = await checkRoute(env, config, route, requestId, timeoutMs);
    checks.push(check);
    if (check.verdict === "ok") break;
  }
  return checks;
}

async function checkRoute(
  env: AppBindings,
  config: AppConfig,
  route: EgressRoute,
  requestId: string,
  timeoutMs: number,
): Promise<RouteCheck> {
  const started = Date.now();
  const base = { route: describeRoutes([route]), route_name: route.name, route_kind: route.kind };
  const signal = AbortSignal.timeout(timeoutMs);
  const call: PreparedCall = { method: "GET", path: RELAY_DIAGNOSTICS_PATH, requestId, signal };
  let check: Findings;
  try {
    check =
      route.kind === "proxy"
        ? await proxyCheck(route, config, call)
        : await relayCheck(await callThroughRelay(env, route, config.egress, config.relayToken, call, QUIET, () => {}));
  } catch (err) {
    check = { reachable: false, verdict: "unreachable", ...failureWords(err, signal, timeoutMs) };
  }
  const advice = check.verdict === "region_blocked" ? { advice: regionAdvice(route.name).operator } : {};
  return { ...base, ...check, ...advice, ms: Date.now() - started };
}

/** GET /v1/models through the tunnel: the proxy's egress as OpenAI sees it, and the app's key. */
async function proxyCheck(route: ProxyRoute, config: AppConfig, call: PreparedCall): Promise<Findings> {
  const res = await callThroughProxy(route, config.egress, { ...call, path: "/v1/models" }, QUIET, () => {});
  const text = await readTextLimited(res.body, 16 * 1024);
  const regionBlocked = res.status === 403 && parseOpenAIError(text).code === REGION_BLOCK_CODE;
  return {
    reachable: true,
    verdict: regionBlocked ? "region_blocked" : "ok",
    key_configured: Boolean(config.egress.openaiApiKey),
    key_accepted: regionBlocked ? null : keyVerdict(res.status),
    models_status: res.status,
  };
}

/** The relay's diagnostics, or why the relay would not give them. */
async function relayCheck(res: Response): Promise<Findings> {
  if (!res.ok) {
    const err = parseOpenAIError(await readTextLimited(res.body, 16 * 1024));
    const refused = err.type === RELAY_ERROR_TYPE && (res.status === 401 || res.status === 403);
    const error = refused
      ? `the relay refused the app (${err.code ?? res.status}): RELAY_TOKEN is missing or differs from the relay's`
      : res.status === 404 || res.status === 405
        ? `answered HTTP ${res.status}: not a relay (check OPENAI_PROXY)`
        : `the relay answered HTTP ${res.status}`;
    return { reachable: false, verdict: "unreachable", status: res.status, failure: "refused", error };
  }
  // Partial: the relay at the other end may be an older or newer version.
  const report = (await res.json()) as Partial<RelayDiagnostics>;
  const verdict = report.verdict;
  return {
    reachable: true,
    verdict: verdict === "ok" || verdict === "region_blocked" || verdict === "misconfigured" ? verdict : "unreachable",
    ...(verdict === "unreachable" ? { error: "the relay could not reach OpenAI" } : {}),
    ...(report.problems ? { problems: report.problems } : {}),
    key_configured: report.key_configured,
    // null when the relay has no key or could not confirm it; models_status says why.
    key_accepted: report.placed?.key_accepted ?? null,
    models_status: report.placed?.models_status ?? null,
  };
}

/** A failed check in words: the proxy's or relay's own failure, never an error class name. */
function failureWords(err: unknown, signal: AbortSignal, timeoutMs: number): { failure: string; error: string } {
  if (err instanceof RouteError) return { failure: err.kind, error: err.message };
  if (signal.aborted) return { failure: "timeout", error: `no answer within ${timeoutMs} ms` };
  if (err instanceof EgressFailure && (err.kind === "headers_timeout" || err.kind === "body_idle")) {
    return { failure: "timeout", error: "the connection opened, but no answer came in time" };
  }
  return { failure: "no_answer", error: "the connection broke before an answer came" };
}
