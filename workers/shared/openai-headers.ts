/**
 * The headers of an OpenAI answer worth passing on, to the relay's callers and from a forward
 * proxy to the app: content handling, tracing and rate limits. Never set-cookie, cf-*, hop-by-hop
 * headers, or anything a proxy in between adds.
 */
const PASSED_HEADERS = [
  "content-type",
  "x-request-id",
  "openai-processing-ms",
  "openai-version",
  "retry-after",
  "retry-after-ms",
];

/** A copy of the allowlisted headers of an OpenAI answer. */
export function passedHeaders(from: Headers): Headers {
  const out = new Headers();
  for (const [name, value] of from) {
    if (PASSED_HEADERS.includes(name) || name.startsWith("x-ratelimit-")) out.append(name, value);
  }
  return out;
}
