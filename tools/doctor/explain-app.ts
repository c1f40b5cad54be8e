/**
 * The app's GET /api/health answer in plain words. Health reports each egress route it checked
 * (`egress` is the one that would serve calls, `routes` all of them when there are several), so
 * the advice follows the route's kind: a relay's placement, or a forward proxy's exit and
 * credentials. Only selected fields are echoed: never a header, a token or a key.
 */
import {
  type Finding,
  isObject,
  PUT_KEY,
  problemLines,
  RELAY_CONFIG,
  regionAdvice,
  serverError,
  UNREACHABLE_ADVICE,
} from "./words.ts";

interface RouteCheck {
  route?: string;
  route_kind?: "binding" | "relay_url" | "proxy";
  reachable?: boolean;
  verdict?: string;
  key_configured?: boolean;
  key_accepted?: boolean | null;
  models_status?: number | null;
  status?: number;
  failure?: string;
  error?: string;
  advice?: string;
  problems?: Array<{ setting?: string; problem?: string }>;
  cached?: boolean;
}

interface Health {
  status?: string;
  problems?: Array<{ setting?: string; problem?: string }>;
  egress?: RouteCheck;
  warnings?: string[];
}

const PUT_APP_KEY = "npx wrangler secret put OPENAI_API_KEY";

/** What to do when a forward proxy could not be used, by how it failed. */
function proxyAdvice(failure: string | undefined): string {
  switch (failure) {
    case "proxy_auth":
      return "What to do: check the user and password in OPENAI_PROXY (http://user:password@host:port; write % as %25).";
    case "tunnel_refused":
      return "What to do: the proxy must allow CONNECT to OpenAI's host and port (443; with tinyproxy: ConnectPort 443).";
    case "proxy_upstream_unreachable":
      return "What to do: the proxy itself could not reach OpenAI's host (api.openai.com:443): check the proxy machine's DNS and outbound network (firewall), and OPENAI_BASE_URL.";
    case "tls":
      return "What to do: TLS through the tunnel failed: is OPENAI_BASE_URL right, and does the proxy pass TLS through untouched?";
    default:
      return "What to do: is the proxy running at that address, and can the app's network reach it (firewall)? EGRESS_CONNECT_TIMEOUT_MS sets the wait.";
  }
}

function regionBlocked(e: RouteCheck, via: string, rerun: string): Finding {
  if (e.route_kind === "proxy") {
    return {
      ok: false,
      lines: [
        `REGION BLOCKED: OpenAI refuses the region ${via} exits from (the proxy's exit location, not the relay's).`,
        "What to do: choose a proxy exit in a region OpenAI serves (or put a route that works first in OPENAI_PROXY),",
        `then re-run: ${rerun}`,
      ],
    };
  }
  const which = e.route_kind === "relay_url" ? `${via} (its own [placement] counts)` : via;
  return {
    ok: false,
    lines: [
      `REGION BLOCKED: the app reaches ${which}, but OpenAI refuses the region the relay's calls leave from.`,
      "To see the location OpenAI refuses: npm run doctor -- --relay <relay url> (needs the relay's RELAY_TOKEN).",
      ...regionAdvice(rerun),
    ],
  };
}

function unreachable(e: RouteCheck, via: string): Finding {
  if (e.route_kind === "proxy") {
    return {
      ok: false,
      lines: [`PROXY UNREACHABLE: the app could not use ${via}: ${e.error ?? "no answer"}.`, proxyAdvice(e.failure)],
    };
  }
  if (e.reachable === false) {
    const how = e.error ?? (e.status ? `HTTP ${e.status}` : "no answer");
    const tokenProblem = e.status === 401 || e.status === 403;
    return {
      ok: false,
      lines: [
        `RELAY UNREACHABLE: the app could not use ${via} (${how}).`,
        tokenProblem
          ? "The relay refused the app: the app's RELAY_TOKEN is missing or differs from the relay's. Set the same value on both (npx wrangler secret put RELAY_TOKEN, for each worker)."
          : e.route_kind === "binding"
            ? `Is the relay deployed (npx wrangler deploy -c ${RELAY_CONFIG}) under the name the RELAY binding names (image-relay)?`
            : "Is OPENAI_PROXY the relay's URL, and is the relay up? Check it with: npm run doctor -- --relay <url>.",
      ],
    };
  }
  return {
    ok: false,
    lines: [`UNREACHABLE: the app reaches ${via}, but the relay cannot reach OpenAI.`, ...UNREACHABLE_ADVICE],
  };
}

/** Health said ok: say so, with any warning first (a key not confirmed, a route that failed). */
function healthy(h: Health, e: RouteCheck, via: string): Finding {
  const proxy = e.route_kind === "proxy";
  const holder = proxy ? "the app's" : "the relay's";
  if (e.key_configured === false && e.models_status === 200) {
    return {
      ok: true,
      lines: [
        `OK: the app reaches ${via}; ${holder.replace("'s", "")} has no OPENAI_API_KEY and its upstream needs none`,
        "(the placeholder stand-in of npm start, or a keyless compatible server).",
      ],
    };
  }
  if (e.key_configured === false) {
    return {
      ok: false,
      lines: [
        `NO KEY: the relay has no OPENAI_API_KEY (the app reaches ${via}, and its upstream answers).`,
        "The app sends the relay no key of its own, so OpenAI refuses those calls. Only a keyless upstream works,",
        "such as the placeholder stand-in of npm start without a key.",
        `What to do: ${PUT_KEY} (locally: OPENAI_API_KEY in .dev.vars).`,
      ],
    };
  }
  const warnings = h.warnings ?? [];
  if (warnings.length > 0) {
    return {
      ok: true,
      lines: [
        `WARNING: generation can work through ${via}, but:`,
        ...warnings.map((w) => `  - ${w}`),
        e.key_accepted === null
          ? "A server without GET /v1/models (many OpenAI-compatible ones) answers 404 there: then only a generation shows whether the key works."
          : "Calls go to the next route meanwhile; fix the one that failed, or take it out of OPENAI_PROXY.",
      ],
    };
  }
  const cached = e.cached ? " (the check was cached, up to a minute old)" : "";
  return {
    ok: true,
    lines: [
      `OK: the app is configured, reaches ${via}, and its calls reach OpenAI from a region it serves;`,
      `OpenAI accepts ${holder} key${cached}.`,
    ],
  };
}

/** The app's GET /api/health answer, explained. */
export function explainApp(status: number, body: unknown, context: { url: string; rerun: string }): Finding {
  const h = body as Health;
  if (!isObject(body) || typeof h.status !== "string") {
    if (status >= 500) return serverError("app", context.url, status, body);
    return {
      ok: false,
      lines: [
        `NOT THE APP: ${context.url} answered HTTP ${status}, not the app's health report.`,
        "Is this the app's address? For a relay, use: npm run doctor -- --relay <url>.",
      ],
    };
  }
  const e = h.egress ?? {};
  const route = e.route ?? "relay binding";
  // "the relay (relay binding)", "the relay (relay at host)", "the proxy 10.0.0.1:3128".
  const via = e.route_kind === "proxy" ? `the ${route}` : `the relay (${route})`;

  switch (h.status) {
    case "misconfigured":
      return {
        ok: false,
        lines: [
          "MISCONFIGURED: the app's settings have problems:",
          ...problemLines(h.problems),
          "What to do: fix them in wrangler.toml [vars] or as secrets (npx wrangler secret put NAME; locally in",
          `.dev.vars), redeploy the app (npx wrangler deploy), then re-run: ${context.rerun}`,
        ],
      };
    case "relay_misconfigured":
      return {
        ok: false,
        lines: [
          `MISCONFIGURED: ${via} reports problems with its own settings:`,
          ...problemLines(e.problems),
          `What to do: fix them in ${RELAY_CONFIG} [vars] (locally: .dev.vars), redeploy the relay, then re-run: ${context.rerun}`,
        ],
      };
    case "region_blocked":
      return regionBlocked(e, via, context.rerun);
    case "egress_unreachable":
      return unreachable(e, via);
    case "key_rejected":
      return {
        ok: false,
        lines: [
          `KEY REJECTED: the app reaches ${via} and OpenAI serves its region, but refuses ${e.route_kind === "proxy" ? "the app's" : "the relay's"} OPENAI_API_KEY (HTTP 401).`,
          `What to do: ${e.route_kind === "proxy" ? PUT_APP_KEY : PUT_KEY}, then re-run: ${context.rerun}`,
        ],
      };
    case "ok":
      return healthy(h, e, via);
    default:
      return { ok: false, lines: [`UNKNOWN: the app's status is "${h.status}", which this doctor does not know.`] };
  }
}
