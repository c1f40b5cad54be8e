/**
 * What to do about a region block depends on the route that was refused: a relay leaves from
 * where it is placed, a forward proxy from its exit. Each message names the route (never a
 * credential: route names carry none) and the fix for that route only.
 */
import type { EgressRoute } from "./routes";

export interface RegionAdvice {
  /** For the operator's log and /api/health. */
  operator: string;
  /** For the end user: what is wrong in general words, and that the operator must act. */
  user: string;
}

/** The kind of route a name stands for (names are made in routes.ts). */
export function routeKindOf(name: string | undefined): EgressRoute["kind"] {
  if (name?.startsWith("proxy:")) return "proxy";
  if (name?.startsWith("relay-url:")) return "relay_url";
  return "binding";
}

export function regionAdvice(routeName: string | undefined): RegionAdvice {
  const name = routeName ?? "relay-binding";
  switch (routeKindOf(name)) {
    case "proxy":
      return {
        operator: `the forward proxy ${name.slice("proxy:".length)} exits in a region OpenAI does not serve; choose a proxy exit in a region OpenAI serves (or put a route that does first in OPENAI_PROXY)`,
        user: "Image generation is unavailable right now: the image provider refused the network region of the server's proxy. The operator must use a proxy exit in a supported region.",
      };
    case "relay_url":
      return {
        operator: `the relay at ${name.slice("relay-url:".length)} leaves from a region OpenAI does not serve; check that relay's [placement] region and its REGION_FALLBACK`,
        user: "Image generation is unavailable right now: the image provider refused the server's network region. The operator must move the relay to a supported region.",
      };
    default:
      return {
        operator:
          "the relay (RELAY binding) leaves from a region OpenAI does not serve; check [placement] region in workers/relay/wrangler.toml and keep REGION_FALLBACK on",
        user: "Image generation is unavailable right now: the image provider refused the server's network region. The operator must move the relay to a supported region.",
      };
  }
}
