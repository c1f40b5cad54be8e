/**
 * What the egress files share, so that none of them imports another for a type: the prepared
 * call, the route header, and the failures egress raises.
 */
import { ApiError } from "../errors";

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
}

/**
 * A route that could not be used before any byte of the call left: the proxy or relay was not
 * reached, refused the tunnel or the app, or TLS failed. Nothing reached OpenAI, so nothing was
 * billed, and the call may go to the next route. Messages name the route, never a credential.
 */
export type RouteFailureKind = "connect" | "connect_timeout" | "proxy_auth" | "tunnel_refused" | "tls";

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
 * The call was never sent: every route was unusable before any byte left. Nothing reached
 * OpenAI, so nothing was billed (the budget gives the call's hold back).
 */
export class NotSentError extends ApiError {}
