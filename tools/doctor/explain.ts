/**
 * Turns what the relay's diagnostics or the app's health answered into plain words and next
 * steps. Pure functions (no network, no process), so tests can feed them any answer. Only
 * selected fields are ever echoed: never a header, a token or a key.
 */

import type { RelayDiagnostics, RelayErrorCode, RelayPathReport } from "../../workers/shared/relay-protocol.ts";
import {
  type Finding,
  isObject,
  PUT_KEY,
  PUT_TOKEN,
  problemLines,
  RELAY_CONFIG,
  regionAdvice,
  serverError,
  UNREACHABLE_ADVICE,
} from "./words.ts";

export { explainApp } from "./explain-app.ts";
export type { Finding } from "./words.ts";

/** Every field optional: the relay asked may be an older or newer version than this doctor. */
type PathReport = Partial<RelayPathReport>;
type Diagnostics = Partial<Omit<RelayDiagnostics, "placed" | "fallback">> & {
  placed?: PathReport | null;
  fallback?: (PathReport & { location?: string }) | null;
};

/** "DE (FRA)", "DE", or a fallback when OpenAI's edge did not say. */
function where(p: PathReport | undefined): string {
  const loc = p?.egress_location;
  const colo = p?.egress_colo;
  if (loc && colo) return `${loc} (${colo})`;
  return loc || colo || "an unknown location (OpenAI's edge did not say)";
}

/** Why a relay refused us, from its error answer; undefined when it was not a refusal. */
function refusal(status: number, body: unknown, tokenSource: string | undefined): Finding | undefined {
  // Typed as the relay's codes, so the literals below are checked against the protocol module.
  const code = isObject(body) && isObject(body.error) ? (body.error.code as RelayErrorCode) : undefined;
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
            : status === 404
              ? "the upstream has no /v1/models (an OpenAI-compatible server?); only a generation will tell"
              : "unexpected answer";
    // Neither accepted (200) nor rejected (401): nothing is known to be wrong, so not a failure.
    return {
      ok: true,
      lines: [
        `WARNING: calls leave from ${at}, but the key was not confirmed: GET /v1/models got HTTP ${status}: ${why}.`,
      ],
    };
  }
  return {
    ok: true,
    lines: [
      `WARNING: OpenAI's edge answered from ${at}, but the key check (GET /v1/models) got no answer: the key was not confirmed.`,
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
  if (status === 200 && isObject(body) && d.verdict === "misconfigured") {
    return {
      ok: false,
      lines: [
        "MISCONFIGURED: the relay's settings have problems:",
        ...problemLines(d.problems),
        `What to do: fix them in ${RELAY_CONFIG} [vars] (locally: .dev.vars), redeploy the relay, then re-run: ${context.rerun}`,
      ],
    };
  }
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
