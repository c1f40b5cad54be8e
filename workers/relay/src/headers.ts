import { passedHeaderRecord } from "../../shared/openai-headers";

/**
 * Header policy. Upstream headers are built from an allowlist, never copied: whatever identifies
 * the end user (cf-connecting-ip, x-forwarded-for, cookie, ...) or the relay's own access token
 * can't reach OpenAI because it is simply never picked.
 */

/** Request headers passed to OpenAI as they came. Authorization is decided separately. */
const UPSTREAM_REQUEST_HEADERS = ["content-type", "accept", "openai-organization", "openai-project"];

export function buildUpstreamHeaders(incoming: Headers, apiKey: string | undefined, requestId: string): Headers {
  const out = new Headers();
  for (const name of UPSTREAM_REQUEST_HEADERS) {
    const value = incoming.get(name);
    if (value !== null) out.set(name, value);
  }
  // Key custody: with its own key the relay never forwards the caller's credentials.
  if (apiKey) out.set("authorization", `Bearer ${apiKey}`);
  else {
    const callerAuth = incoming.get("authorization");
    if (callerAuth !== null) out.set("authorization", callerAuth);
  }
  // OpenAI echoes this id in its logs, which ties a support ticket to our logs. It is our own
  // random id (or the caller's, already checked to be short and plain), never the user's identity.
  out.set("x-client-request-id", requestId);
  out.set("user-agent", "openai-image-relay");
  return out;
}

/** Response header that says which egress answered: `placed` or `fallback-wnam`. */
export const EGRESS_HEADER = "x-relay-egress";

/** Response headers passed back: OpenAI's allowlisted ones, our request id and the egress used. */
export function buildDownstreamHeaders(upstream: Headers, requestId: string, egress: string): Record<string, string> {
  const out = passedHeaderRecord(upstream);
  // OpenAI's own id stays in x-request-id (clients read it there); ours goes alongside.
  out["x-relay-request-id"] = requestId;
  out[EGRESS_HEADER] = egress;
  return out;
}
