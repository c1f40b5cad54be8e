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
