/**
 * What the egress files share, so that none of them imports another for a type: the prepared
 * call, the route header, and the failures egress raises.
 */
/** Response header naming the route that served the call (never a credential). */
export const EGRESS_ROUTE_HEADER = "x-egress-route";

/** A call with its body read into bytes, so that it can be sent again (a stream can't). */
export interface PreparedCall {
  method: "GET" | "POST";
  path: string;
  requestId: string;
  signal: AbortSignal;
  body?: Uint8Array | ReadableStream<Uint8Array>;
  contentType?: string;
  /**
   * Rate-limited (429) answers sent again in place, at most (default MAX_RATE_LIMIT_RETRIES).
   * 0 under the fair queue: the 429 goes back to the dispatcher, where the wait is fair and does
   * not count toward the call's deadline.
   */
  rateLimitRetries?: number;
}

/**
 * A route that could not be used before any byte of the call left: the proxy or relay was not
 * reached, refused the tunnel or the app, could not reach the upstream itself (a 5xx to CONNECT),
 * or TLS failed. Nothing reached OpenAI, so nothing was billed, and the call may go to the next
 * route. Messages name the route, never a credential.
 */
export type RouteFailureKind =
  | "connect"
  | "connect_timeout"
  | "proxy_auth"
  | "tunnel_refused"
  | "proxy_upstream_unreachable"
  | "tls";

export class RouteError extends Error {
  override name = "RouteError";

  constructor(
    readonly route: string,
    readonly kind: RouteFailureKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * How a call through egress failed, as failures/public.ts turns it into the app's answer:
 * - `not_sent`, `not_sent_timeout`: every route was unusable before any byte left (the second when
 *   every one timed out connecting); nothing reached OpenAI.
 * - `no_headers`, `headers_timeout`: sent, then the connection broke or no headers came in time.
 * - `body_broken`, `body_idle`: the answer broke off, or stalled past the idle limit, mid-body.
 */
export type EgressFailureKind =
  | "not_sent"
  | "not_sent_timeout"
  | "no_headers"
  | "headers_timeout"
  | "body_broken"
  | "body_idle";

/**
 * A failed call, typed: what failed, on which route (undefined when no route was left), and
 * whether OpenAI may have billed it (false only when the call provably never left; the budget
 * then gives the call's hold back). `detail` is for the log and operators (route names and
 * failures, a proxy's address), never for the client (failures/public.ts), and never names a
 * credential.
 */
export class EgressFailure extends Error {
  override name = "EgressFailure";

  /** Whether OpenAI may have billed the call: anything after it left may have been. */
  readonly mayBeBilled: boolean;

  constructor(
    readonly kind: EgressFailureKind,
    readonly route: string | undefined,
    readonly detail = "",
  ) {
    super(`egress ${kind}${route ? ` on ${route}` : ""}${detail ? `: ${detail}` : ""}`);
    this.mayBeBilled = kind !== "not_sent" && kind !== "not_sent_timeout";
  }
}
