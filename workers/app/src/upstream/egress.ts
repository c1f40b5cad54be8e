import type { AppConfig } from "../config";
import type { AppBindings } from "../env";

/** Header the relay checks when it has a RELAY_TOKEN; the relay never forwards it upstream. */
export const RELAY_TOKEN_HEADER = "X-Relay-Token";

/** Service bindings need an absolute URL; its host is never resolved. */
const BINDING_ORIGIN = "https://relay.internal";

export interface RelayCall {
  method: "GET" | "POST";
  path: string;
  requestId: string;
  signal: AbortSignal;
  body?: BodyInit;
  contentType?: string;
}

/**
 * Sends a request to the relay over the configured route. Headers are built here from scratch:
 * nothing of the end user's request (IP, country, cookies) is ever copied onto it.
 */
export function callRelay(env: AppBindings, config: AppConfig, call: RelayCall): Promise<Response> {
  const headers = new Headers({ accept: "application/json", "x-request-id": call.requestId });
  if (call.contentType) headers.set("content-type", call.contentType);
  if (config.relayToken) headers.set(RELAY_TOKEN_HEADER, config.relayToken);
  const init: RequestInit = { method: call.method, headers, body: call.body, signal: call.signal };

  if (config.egress.kind === "relay_url") {
    return fetch(config.egress.baseUrl + call.path, init);
  }
  // getConfig() has checked that the binding exists when this route is chosen.
  return (env.RELAY as Fetcher).fetch(new Request(BINDING_ORIGIN + call.path, init));
}

/** Describes the route for logs and health, without any secret in it. */
export function describeEgress(config: AppConfig): string {
  return config.egress.kind === "binding" ? "relay binding" : `relay at ${new URL(config.egress.baseUrl).host}`;
}
