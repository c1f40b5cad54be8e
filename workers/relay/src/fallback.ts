import { DurableObject } from "cloudflare:workers";
import type { RelayEnv } from "./env";
import { type RelaySettings, relaySettings } from "./settings";

/**
 * Where the fallback egress lives. A Durable Object created with this hint runs in western North
 * America, so its fetch leaves from US colos. Region blocks depend on the colo a call leaves from,
 * and a placed worker can still land in a refused one; resending from such a Durable Object is the
 * fix reported for that.
 */
export const FALLBACK_LOCATION: DurableObjectLocationHint = "wnam";

/**
 * Sends one upstream request from the Durable Object's location and streams the answer back.
 * Reached only through the relay's own binding, and it still refuses any target outside the
 * configured upstream, so it can't become a proxy to elsewhere.
 */
export class EgressFallback extends DurableObject<RelayEnv> {
  override async fetch(request: Request): Promise<Response> {
    const base = relaySettings(this.env).settings?.openaiBaseUrl;
    if (!base || !request.url.startsWith(`${base}/`)) {
      return new Response("fallback egress: target outside the upstream", { status: 400 });
    }
    return fetch(request, { redirect: "manual" });
  }
}

/** Whether a region-blocked call may be sent again from the fallback location (`settings`: the caller's, already parsed). */
export function fallbackEnabled(env: RelayEnv, settings: RelaySettings): boolean {
  return env.EGRESS_FALLBACK !== undefined && settings.regionFallback;
}

/**
 * The fallback's stub, or undefined when it is disabled or not bound. Made only when needed:
 * most calls are never region-blocked, and the stub is not free on the hot path.
 */
export function fallbackEgress(env: RelayEnv, settings: RelaySettings): DurableObjectStub | undefined {
  if (!fallbackEnabled(env, settings) || !env.EGRESS_FALLBACK) return undefined;
  const id = env.EGRESS_FALLBACK.idFromName(FALLBACK_LOCATION);
  return env.EGRESS_FALLBACK.get(id, { locationHint: FALLBACK_LOCATION });
}
