/**
 * Sends one call over the configured routes, in order, and decides what may be tried again.
 *
 * - A route that could not be used before the call left (not reached, tunnel or TLS refused, a
 *   relay refusing the app) and a region block: the next route.
 * - A rate limit that is not `insufficient_quota`: the same route again, after retry-after,
 *   at most twice and only within EGRESS_RETRY_BUDGET_MS (and UPSTREAM_TIMEOUT_MS) of the start.
 * - Anything after the call left (timeouts, resets, 5xx, a broken body): never again, since the
 *   generation may have been billed. Once the Response is returned nothing is retried at all.
 *
 * The route that answered goes back in `x-egress-route`; every failover and retry is logged.
 */
import type { Logger } from "../../../shared/log";
import { readTextLimited } from "../../../shared/read-limited";
import type { AppConfig } from "../config";
import type { AppBindings } from "../env";
import { type CoolOff, isolateCoolOff } from "./cool-off";
import { callThroughProxy } from "./proxy-call";
import { regionAdvice } from "./region-advice";
import { callThroughRelay } from "./relay-call";
import { MAX_RATE_LIMIT_RETRIES, STATUSES_TO_INSPECT, verdict } from "./retry";
import type { EgressRoute } from "./routes";
import { sleep } from "./timers";
import { EGRESS_ROUTE_HEADER, EgressFailure, type PreparedCall, RouteError } from "./types";

const MAX_ERROR_BODY = 64 * 1024;

/**
 * The loop described at the top of this file. Long (one function, ~120 lines) on purpose: every
 * decision (fail over, retry in place, give up) reads the same state (the routes left, retries,
 * time spent, a kept refusal); split, that state would travel between functions and the order of
 * the decisions would no longer be readable in one place.
 */
export async function sendCall(
  env: AppBindings,
  config: AppConfig,
  call: PreparedCall,
  log: Logger,
  coolOff: CoolOff = isolateCoolOff,
): Promise<Response> {
  const egress = config.egress;
  const started = Date.now();
  // Waiting out a rate limit never outlasts the call's own deadline (UPSTREAM_TIMEOUT_MS).
  const budget = Math.min(egress.retryBudgetMs, config.upstreamTimeoutMs);
  const replayable = !(call.body instanceof ReadableStream);
  const { use, skipped } = coolOff.plan(egress.routes);
  for (const route of skipped) {
    log.warn(`Egress route ${route.name} skipped: cooling off after repeated failures`, {
      route: route.name,
      until: new Date(coolOff.until(route.name)).toISOString(),
    });
  }
  const failed = (route: EgressRoute) => {
    if (coolOff.failed(route.name, egress.coolOffMs)) {
      log.warn(`Egress route ${route.name} failed repeatedly; skipping it for ${egress.coolOffMs} ms`, {
        route: route.name,
        cool_off_ms: egress.coolOffMs,
      });
    }
  };
  const attempt = (route: EgressRoute): Promise<Response> => {
    const onBodyFailure = () => failed(route);
    if (route.kind !== "proxy") {
      return callThroughRelay(env, route, egress, config.relayToken, call, log, onBodyFailure);
    }
    return callThroughProxy(route, egress, call, log, onBodyFailure);
  };

  const unusable: RouteError[] = [];
  let refusal: { route: EgressRoute; text: string; init: ResponseInit } | undefined;
  for (const [index, route] of use.entries()) {
    const then = use[index + 1] ? `; failing over to ${use[index + 1]?.name}` : "; no route left";
    for (let retries = 0; ; retries++) {
      call.signal.throwIfAborted();
      let res: Response;
      try {
        res = await attempt(route);
      } catch (err) {
        if (!(err instanceof RouteError)) {
          if (!call.signal.aborted) failed(route);
          throw err;
        }
        unusable.push(err);
        failed(route);
        log.warn(`Egress route ${route.name} could not be used: ${err.message}${then}`, {
          route: route.name,
          failure: err.kind,
          status: err.status,
        });
        break;
      }

      if (!STATUSES_TO_INSPECT.includes(res.status)) return served(route, res, retries);
      const text = (await readTextLimited(res.body, MAX_ERROR_BODY)) ?? "";
      const init = { status: res.status, statusText: res.statusText, headers: res.headers };
      const next = verdict(res.status, res.headers, text, route.kind !== "proxy", retries);
      const fields = {
        route: route.name,
        status: res.status,
        upstream_request_id: res.headers.get("x-request-id") ?? undefined,
      };
      if (next.kind === "region_block" || next.kind === "relay_refused") {
        failed(route);
        const outcome = replayable ? then : "; not sent elsewhere: the request body was a stream";
        log.error(
          next.kind === "region_block"
            ? `Egress route ${route.name}: OpenAI refused the region this route leaves from (unsupported_country_region_territory): ${regionAdvice(route.name).operator}${outcome}`
            : `Egress route ${route.name}: the relay refused the app (${next.code}); check RELAY_TOKEN${outcome}`,
          fields,
        );
        if (!replayable) return tagged(route, new Response(text, init));
        refusal = { route, text, init };
        break;
      }
      if (next.kind === "rate_limited") {
        const waited = Date.now() - started;
        const reason = !replayable
          ? "the request body was a stream"
          : retries >= (call.rateLimitRetries ?? MAX_RATE_LIMIT_RETRIES)
            ? call.rateLimitRetries === 0
              ? "the fair queue waits instead"
              : `already retried ${retries} times`
            : waited + next.waitMs > budget
              ? `waiting ${next.waitMs} ms would pass the retry budget of ${budget} ms`
              : undefined;
        if (reason === undefined) {
          log.warn(`Egress route ${route.name}: rate limited (429); retrying the same route in ${next.waitMs} ms`, {
            ...fields,
            retry: retries + 1,
            wait_ms: next.waitMs,
          });
          await sleep(next.waitMs, call.signal);
          continue;
        }
        log.warn(`Egress route ${route.name}: rate limited (429); not retried: ${reason}`, fields);
      }
      return served(route, new Response(text, init), retries);
    }
  }

  if (refusal) return tagged(refusal.route, new Response(refusal.text, refusal.init));
  throw noRouteLeft(unusable, log);

  function served(route: EgressRoute, res: Response, retries: number): Response {
    coolOff.succeeded(route.name);
    // The usual case, the first route answering at once, needs no line of its own: the route is
    // in `x-egress-route` and in the caller's lines. A failover, a skip or a retry is worth one.
    if (route !== egress.routes[0] || retries > 0 || skipped.length > 0) {
      log.info(`Egress route ${route.name} served the call`, {
        route: route.name,
        status: res.status,
        retries,
        ms_to_headers: Date.now() - started,
      });
    }
    return tagged(route, res);
  }
}

/**
 * The answer with `x-egress-route` set, in place: every route builds its own Response (never a
 * fetch() answer as it came, whose headers would be immutable), so no copy is needed.
 */
function tagged(route: EgressRoute, res: Response): Response {
  res.headers.set(EGRESS_ROUTE_HEADER, route.name);
  return res;
}

/** Every route failed before the call left: nothing was billed; say which and why. */
function noRouteLeft(unusable: RouteError[], log: Logger): EgressFailure {
  // Each route's failure in words (proxy address, status): the operator's, never the client's.
  const detail = unusable.map((f) => f.message).join("; ") || "no egress route is configured";
  log.error("No egress route could be used; the call was not sent", {
    routes: unusable.map((f) => f.route).join(", "),
    failures: unusable.map((f) => f.kind).join(", "),
    detail,
  });
  const timedOut = unusable.length > 0 && unusable.every((f) => f.kind === "connect_timeout");
  return new EgressFailure(timedOut ? "not_sent_timeout" : "not_sent", undefined, detail);
}
