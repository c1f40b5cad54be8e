import { passedHeaderRecord } from "../../shared/openai-wire";

/**
 * Header policy. Upstream headers are built from an allowlist, never copied: whatever identifies
 * the end user (cf-connecting-ip, x-forwarded-for, cookie, ...) or the relay's own access token
 * can't reach OpenAI because it is simply never picked.
 */

/** Request headers passed to OpenAI as they came. Authorization, organisation and project are decided separately. */
const UPSTREAM_REQUEST_HEADERS = ["content-type", "accept"];

/** The operator's credentials: the relay's own key and, optionally, which organisation and project it bills. */
export interface Operator {
  apiKey?: string;
  organization?: string;
  project?: string;
}

const operatorHeaderCache = new WeakMap<Operator, Record<string, string>>();

/**
 * What the operator's key sends upstream: its Authorization and, when set, the organisation and
 * project it bills; nothing without a key. The one home of that rule, for calls and for the
 * diagnostics' probes. Kept per operator object (operatorOf gives one per env): read-only.
 */
export function operatorHeaders(operator: Operator): Readonly<Record<string, string>> {
  let out = operatorHeaderCache.get(operator);
  if (out) return out;
  out = {};
  if (operator.apiKey) {
    out.authorization = `Bearer ${operator.apiKey}`;
    if (operator.organization) out["openai-organization"] = operator.organization;
    if (operator.project) out["openai-project"] = operator.project;
  }
  operatorHeaderCache.set(operator, out);
  return out;
}

/** With the caller's own key: the caller's billing headers, as sent. */
const CALLER_BILLING_HEADERS = ["authorization", "openai-organization", "openai-project"];

/**
 * The upstream headers of one call. Key custody decides who names the organisation and project:
 * with the operator's key, only the operator's settings (a caller must not choose which of the
 * key's organisations or projects pays); with the caller's own key, the caller's headers.
 */
export function buildUpstreamHeaders(incoming: Headers, operator: Operator, requestId: string): Headers {
  const out = new Headers();
  for (const name of UPSTREAM_REQUEST_HEADERS) {
    const value = incoming.get(name);
    if (value !== null) out.set(name, value);
  }
  if (operator.apiKey) {
    const billing = operatorHeaders(operator);
    for (const name in billing) out.set(name, billing[name] as string);
  } else {
    for (const name of CALLER_BILLING_HEADERS) {
      const value = incoming.get(name);
      if (value) out.set(name, value);
    }
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
