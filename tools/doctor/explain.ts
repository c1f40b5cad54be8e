/**
 * Turns what the relay's diagnostics or the app's health answered into plain words and next
 * steps. Pure functions (no network, no process), so tests can feed them any answer. Only
 * selected fields are ever echoed: never a header, a token or a key.
 */

export interface Finding {
  ok: boolean;
  /** The first line is the verdict; the others explain it and say what to do. */
  lines: string[];
}

interface PathReport {
  verdict?: string;
  egress_location?: string | null;
  egress_colo?: string | null;
  upstream_answered?: boolean;
  models_status?: number | null;
  key_accepted?: boolean | null;
}

interface Diagnostics {
  verdict?: string;
  relay?: { colo?: string | null; placement?: string | null };
  key_configured?: boolean;
  placed?: PathReport;
  fallback?: (PathReport & { location?: string }) | null;
}

interface Health {
  status?: string;
  problems?: Array<{ setting?: string; problem?: string }>;
  egress?: {
    route?: string;
    reachable?: boolean;
    verdict?: string;
    key_configured?: boolean;
    key_accepted?: boolean | null;
    models_status?: number | null;
    status?: number;
    error?: string;
    cached?: boolean;
  };
}

const RELAY_CONFIG = "workers/relay/wrangler.toml";
const PUT_KEY = `npx wrangler secret put OPENAI_API_KEY -c ${RELAY_CONFIG}`;
const PUT_TOKEN = `npx wrangler secret put RELAY_TOKEN -c ${RELAY_CONFIG}`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** "DE (FRA)", "DE", or a fallback when OpenAI's edge did not say. */
function where(p: PathReport | undefined): string {
  const loc = p?.egress_location;
  const colo = p?.egress_colo;
  if (loc && colo) return `${loc} (${colo})`;
  return loc || colo || "an unknown location (OpenAI's edge did not say)";
}

function regionAdvice(rerun: string): string[] {
  return [
    "What to do:",
    `  1. Pin the relay to a region OpenAI serves, in ${RELAY_CONFIG}:`,
    "       [placement]",
    '       region = "aws:us-east-1"',
    `  2. Redeploy the relay: npx wrangler deploy -c ${RELAY_CONFIG}`,
    '  3. Keep REGION_FALLBACK on (do not set it to "off"): a refused call is then sent once more from a',
    "     Durable Object in the US.",
    `  4. Re-run: ${rerun}`,
  ];
}

const UNREACHABLE_ADVICE = [
  "What to do: check the relay's OPENAI_BASE_URL (the [vars] in workers/relay/wrangler.toml or .dev.vars;",
  "unset means https://api.openai.com), and that the relay's network can reach it (DNS, firewall).",
  "Locally: is the server at OPENAI_BASE_URL running?",
];

/** Why a relay refused us, from its error answer; undefined when it was not a refusal. */
function refusal(status: number, body: unknown, tokenSource: string | undefined): Finding | undefined {
  const code = isObject(body) && isObject(body.error) ? body.error.code : undefined;
  if (status === 401 && code === "relay_token_missing") {
    return {
      ok: false,
      lines: [
        "REFUSED: the relay requires a token (X-Relay-Token) and none was sent.",
        "What to do: set RELAY_TOKEN (in the environment or .dev.vars) to the relay's RELAY_TOKEN and re-run.",
      ],
    };
  }
  if (status === 403 && code === "relay_token_invalid") {
    return {
      ok: false,
      lines: [
        `REFUSED: the relay does not accept the RELAY_TOKEN sent (from ${tokenSource ?? "?"}): it differs from the relay's.`,
        "What to do: use the relay's RELAY_TOKEN here (npm run dev:relay prints its own), or give the relay",
        `this one: ${PUT_TOKEN} (and the app the same: npx wrangler secret put RELAY_TOKEN).`,
      ],
    };
  }
  if (status === 403 && code === "relay_private") {
    return {
      ok: false,
      lines: [
        "REFUSED: this relay has no RELAY_TOKEN, so it serves only its service binding (the app), not HTTP callers.",
        `What to do: to call it over HTTP, give it a token (${PUT_TOKEN}) and set the same RELAY_TOKEN here;`,
        "or check the app instead: npm run doctor -- --app <app url>.",
      ],
    };
  }
  return undefined;
}

/** How OpenAI received the relay's key, when its calls do reach OpenAI. */
function keyFinding(d: Diagnostics, at: string): Finding {
  const p = d.placed ?? {};
  const status = p.models_status;
  if (!d.key_configured) {
    if (status === 200) {
      return {
        ok: true,
        lines: [
          `OK: calls leave from ${at} and the upstream accepts them; the relay has no OPENAI_API_KEY and the`,
          "upstream needs none (a stand-in or a keyless server). Callers' own Authorization headers are forwarded.",
        ],
      };
    }
    return {
      ok: false,
      lines: [
        `NO KEY: calls leave from ${at} and reach OpenAI, but the relay has no OPENAI_API_KEY` +
          (status ? ` (a call without one got HTTP ${status}).` : "."),
        "Without it the relay forwards each caller's own Authorization header, and the app sends none.",
        `What to do: ${PUT_KEY}`,
        "(locally: OPENAI_API_KEY in .dev.vars), then re-run doctor.",
      ],
    };
  }
  if (p.key_accepted === true) {
    return { ok: true, lines: [`OK: calls leave from ${at}, OpenAI accepts them; key configured and accepted.`] };
  }
  if (status === 401) {
    return {
      ok: false,
      lines: [
        `KEY REJECTED: calls leave from ${at} and reach OpenAI, but it refuses the relay's OPENAI_API_KEY (HTTP 401).`,
        `What to do: put a valid key: ${PUT_KEY}`,
        "(locally: OPENAI_API_KEY in .dev.vars), then re-run doctor.",
      ],
    };
  }
  if (typeof status === "number") {
    const why =
      status === 403
        ? "the key is not allowed to list models (a restricted key or project?)"
        : status === 429
          ? "rate limited or out of quota: check the account's billing and limits"
          : status >= 500
            ? "OpenAI had trouble: try again in a minute"
            : "unexpected answer";
    return {
      ok: false,
      lines: [`KEY NOT CONFIRMED: calls leave from ${at}, but checking the key got HTTP ${status}: ${why}.`],
    };
  }
  return {
    ok: false,
    lines: [
      `KEY NOT CONFIRMED: OpenAI's edge answered from ${at}, but the key check (GET /v1/models) got no answer.`,
      "What to do: try again; if it persists, check OPENAI_BASE_URL and the network.",
    ],
  };
}

function fallbackLine(f: Diagnostics["fallback"]): string {
  if (f === null || f === undefined) {
    return 'Fallback egress: off (REGION_FALLBACK = "off" or no EGRESS_FALLBACK binding): such calls fail.';
  }
  const name = `Fallback egress (${f.location ?? "?"}, leaves from ${where(f)})`;
  if (f.verdict === "ok") return `${name}: accepted, so calls succeed on their second try, after a refused first one.`;
  if (f.verdict === "region_blocked") return `${name}: refused as well: every call fails.`;
  return `${name}: ${f.verdict ?? "no verdict"}.`;
}

/** The relay's GET /_relay/diagnostics answer, explained. */
export function explainRelay(
  status: number,
  body: unknown,
  context: { url: string; tokenSource?: string; rerun: string },
): Finding {
  const refused = refusal(status, body, context.tokenSource);
  if (refused) return refused;
  const d = body as Diagnostics;
  if (status !== 200 || !isObject(body) || typeof d.verdict !== "string" || !isObject(d.placed)) {
    if (status >= 500) return serverError("relay", context.url, status, body);
    const code = isObject(body) && isObject(body.error) ? ` (${String(body.error.code)})` : "";
    return {
      ok: false,
      lines: [
        `NOT A RELAY: ${context.url} answered HTTP ${status}${code}, not the relay's diagnostics.`,
        "Is this the relay's address? For the app, use: npm run doctor -- --app <url>.",
      ],
    };
  }

  const at = where(d.placed);
  const runsIn = [d.relay?.colo && `colo ${d.relay.colo}`, d.relay?.placement && `placement ${d.relay.placement}`]
    .filter(Boolean)
    .join(", ");
  const context_ = runsIn ? [`The relay runs in ${runsIn}.`] : [];

  let finding: Finding;
  if (d.verdict === "region_blocked") {
    finding = {
      ok: false,
      lines: [
        `REGION BLOCKED: OpenAI refuses calls from where the relay's calls leave: ${at}` +
          (d.placed.models_status ? ` (HTTP ${d.placed.models_status}).` : "."),
        ...context_,
        fallbackLine(d.fallback),
        ...regionAdvice(context.rerun),
      ],
    };
  } else if (d.verdict === "unreachable") {
    finding = {
      ok: false,
      lines: ["UNREACHABLE: the relay could not reach OpenAI (no answer to any probe).", ...UNREACHABLE_ADVICE],
    };
  } else if (d.verdict === "ok") {
    const key = keyFinding(d, at);
    const note =
      d.fallback && d.fallback.verdict !== "ok"
        ? [`Note: ${fallbackLine(d.fallback)} It matters only after a region block.`]
        : [];
    finding = { ok: key.ok, lines: [...key.lines, ...context_, ...note] };
  } else {
    finding = {
      ok: false,
      lines: [`UNKNOWN: the relay's verdict is "${d.verdict}", which this doctor does not know.`],
    };
  }
  return finding;
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
  const egress = h.egress ?? {};
  const route = egress.route ?? "the relay";

  switch (h.status) {
    case "misconfigured":
      return {
        ok: false,
        lines: [
          "MISCONFIGURED: the app's settings have problems:",
          ...(h.problems ?? []).map((p) => `  - ${p.setting ?? "?"}: ${p.problem ?? "?"}`),
          "What to do: fix them in wrangler.toml [vars] or as secrets (npx wrangler secret put NAME; locally in",
          `.dev.vars), redeploy the app (npx wrangler deploy), then re-run: ${context.rerun}`,
        ],
      };
    case "region_blocked":
      return {
        ok: false,
        lines: [
          `REGION BLOCKED: the app reaches the relay (${route}), but OpenAI refuses the region the relay's calls leave from.`,
          "To see the location OpenAI refuses: npm run doctor -- --relay <relay url> (needs the relay's RELAY_TOKEN).",
          ...regionAdvice(context.rerun),
        ],
      };
    case "egress_unreachable":
      if (egress.reachable === false) {
        const how = egress.status ? `HTTP ${egress.status}` : (egress.error ?? "no answer");
        const tokenProblem = egress.status === 401 || egress.status === 403;
        return {
          ok: false,
          lines: [
            `RELAY UNREACHABLE: the app could not use the ${route} (${how}).`,
            tokenProblem
              ? "The relay refused the app: the app's RELAY_TOKEN is missing or differs from the relay's. Set the same value on both (npx wrangler secret put RELAY_TOKEN, for each worker)."
              : route === "relay binding"
                ? `Is the relay deployed (npx wrangler deploy -c ${RELAY_CONFIG}) under the name the RELAY binding names (image-relay)?`
                : "Is OPENAI_PROXY the relay's URL, and is the relay up? Check it with: npm run doctor -- --relay <url>.",
          ],
        };
      }
      return {
        ok: false,
        lines: [
          `UNREACHABLE: the app reaches the relay (${route}), but the relay cannot reach OpenAI.`,
          ...UNREACHABLE_ADVICE,
        ],
      };
    case "key_rejected":
      return {
        ok: false,
        lines: [
          `KEY REJECTED: the app reaches the relay (${route}) and OpenAI serves its region, but refuses the relay's OPENAI_API_KEY.`,
          `What to do: ${PUT_KEY}, then re-run: ${context.rerun}`,
        ],
      };
    case "ok": {
      const cached = egress.cached ? " (the relay's answer was cached, up to a minute old)" : "";
      if (egress.key_configured === false && egress.models_status === 200) {
        return {
          ok: true,
          lines: [
            `OK: the app reaches the relay (${route}); the relay has no OPENAI_API_KEY and its upstream needs none`,
            "(the placeholder stand-in of npm start, or a keyless compatible server).",
          ],
        };
      }
      if (egress.key_configured === false) {
        return {
          ok: false,
          lines: [
            `NO KEY: the relay has no OPENAI_API_KEY (the app reaches it through the ${route}, and its upstream answers).`,
            "The app sends the relay no key of its own, so OpenAI refuses those calls. Only a keyless upstream works,",
            "such as the placeholder stand-in of npm start without a key.",
            `What to do: ${PUT_KEY}`,
            `(locally: OPENAI_API_KEY in .dev.vars), then re-run: ${context.rerun}`,
          ],
        };
      }
      return {
        ok: true,
        lines: [
          `OK: the app is configured, reaches the relay (${route}), and the relay's calls reach OpenAI from a region it serves;`,
          `OpenAI accepts the relay's key${cached}.`,
        ],
      };
    }
    default:
      return { ok: false, lines: [`UNKNOWN: the app's status is "${h.status}", which this doctor does not know.`] };
  }
}

/** The worker answered, but with a server error instead of its report. */
function serverError(kind: "app" | "relay", url: string, status: number, body: unknown): Finding {
  const code = isObject(body) && isObject(body.error) && body.error.code ? ` (${String(body.error.code)})` : "";
  const config = kind === "app" ? "" : ` -c ${RELAY_CONFIG}`;
  return {
    ok: false,
    lines: [
      `${kind.toUpperCase()} ERROR: ${url} answered HTTP ${status}${code} instead of its report: the ${kind} itself failed.`,
      `What to do: look at its logs (deployed: npx wrangler tail${config}; locally: the wrangler dev output).`,
    ],
  };
}

/** Nothing answered at all. */
export function explainNoAnswer(url: string, error: string, kind: "app" | "relay"): Finding {
  return {
    ok: false,
    lines: [
      `NO ANSWER: nothing answered at ${url} (${error}).`,
      kind === "app"
        ? "Is the app running? Locally: npm start (it listens on http://localhost:8787)."
        : "Is the relay running, and is this its address? Locally: npm run dev:relay (http://localhost:8788).",
    ],
  };
}
