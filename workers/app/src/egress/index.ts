/**
 * The one entry into egress: everything that leaves the app for OpenAI goes through
 * `sendToOpenAI` (a call) or `diagnose` (the health checks of each route).
 */
import { createLogger, type Logger } from "../../../shared/log";
import type { AppConfig } from "../config";
import type { AppBindings } from "../env";
import { sendCall } from "./call";

export { diagnose, type RouteCheck } from "./diagnose";
export { EGRESS_ROUTE_HEADER } from "./types";

export interface OpenAICall {
  method: "GET" | "POST";
  path: string;
  requestId: string;
  signal: AbortSignal;
  body?: BodyInit;
  contentType?: string;
  /** The request's logger; egress lines (route, retries, failovers) go there. */
  log?: Logger;
  /** Rate-limited answers retried in place, at most (egress/types.ts PreparedCall). */
  rateLimitRetries?: number;
}

/**
 * Sends a call to OpenAI's API over the configured egress routes (OPENAI_PROXY), with failover,
 * safe retries and per-stage time limits (see egress/call.ts). Resolves with the answer, whatever
 * its status, its body streaming, and `x-egress-route` naming the route that served it. Rejects
 * with an EgressFailure (egress/types.ts) when no route could be used or the call failed after it
 * was sent (failures/public.ts words it for the client), or with the
 * signal's reason when `call.signal` aborts. Headers are built from scratch: nothing of the end
 * user's request (IP, country, cookies) is ever copied onto it.
 */
export async function sendToOpenAI(env: AppBindings, config: AppConfig, call: OpenAICall): Promise<Response> {
  const log = call.log ?? createLogger("app", { request_id: call.requestId });
  let body: Uint8Array | ReadableStream<Uint8Array> | undefined;
  let contentType = call.contentType;
  if (call.body instanceof ReadableStream) body = call.body;
  else if (typeof call.body === "string") {
    body = new TextEncoder().encode(call.body);
    contentType ??= "text/plain;charset=UTF-8";
  } else if (call.body !== undefined && call.body !== null) {
    // Read once into bytes so that a failover or a rate-limit retry can send the same body again.
    const carrier = new Request("https://body.invalid/", { method: "POST", body: call.body });
    body = new Uint8Array(await carrier.arrayBuffer());
    contentType ??= carrier.headers.get("content-type") ?? undefined;
  }
  return sendCall(env, config, { ...call, body, contentType }, log);
}
