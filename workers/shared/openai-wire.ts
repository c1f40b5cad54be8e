/**
 * OpenAI's wire facts both workers rely on: which answer headers are passed on, the error
 * document's shape, the region-block code, what a models probe says about the key. (The
 * Retry-After parser is its own file, retry-after.ts.)
 */

/**
 * The headers of an OpenAI answer worth passing on, to the relay's callers and from a forward
 * proxy to the app: content handling, tracing and rate limits. Never set-cookie, cf-*, hop-by-hop
 * headers, or anything a proxy in between adds.
 *
 * The list is looked up name by name rather than matched while iterating the answer's headers:
 * in workerd each iterated entry costs about a microsecond and an answer carries twenty or so,
 * while a miss on `get` is cheap. This is the relay's hottest code, run once per call.
 */
export const PASSED_HEADERS = [
  "content-type",
  "x-request-id",
  "openai-processing-ms",
  "openai-version",
  "retry-after",
  "retry-after-ms",
  // OpenAI's rate-limit headers, as its rate-limit guide lists them.
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-tokens",
] as const;

/**
 * The allowlisted headers of an OpenAI answer, as a plain record: handing a record to
 * `new Response` costs less than building a Headers object first.
 */
export function passedHeaderRecord(from: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = from.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

/** A copy of the allowlisted headers of an OpenAI answer. */
export function passedHeaders(from: Headers): Headers {
  return new Headers(passedHeaderRecord(from));
}

/** OpenAI's error shape, as far as we rely on it. */
export interface OpenAIErrorBody {
  error?: { message?: unknown; type?: unknown; param?: unknown; code?: unknown };
}

/** Parses an OpenAI error document; any other text yields an empty object. */
export function parseOpenAIError(text: string | null): {
  message?: string;
  type?: string;
  param?: string;
  code?: string;
} {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as OpenAIErrorBody;
    const e = parsed?.error;
    if (!e || typeof e !== "object") return {};
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    return { message: str(e.message), type: str(e.type), param: str(e.param), code: str(e.code) };
  } catch {
    return {};
  }
}

/**
 * The code OpenAI uses (403, type `request_forbidden`) when the egress location is refused. It
 * depends on the colo the call leaves from, so a retry in place (same colo) never helps.
 */
export const REGION_BLOCK_CODE = "unsupported_country_region_territory";

/**
 * What a `GET /v1/models` status says about the key: 200 accepted, 401 rejected; anything else
 * (404 from a compatible server without the endpoint, a 403 for a restricted key, 429, 5xx)
 * proves neither, so null: "not confirmed". A region block is not about the key at all.
 */
export function keyVerdict(status: number): boolean | null {
  if (status === 200) return true;
  return status === 401 ? false : null;
}
