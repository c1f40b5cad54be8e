/**
 * The only requests the relay forwards. Anything else is answered locally and never reaches
 * OpenAI, so the relay can't be used as a general-purpose proxy.
 */
export const FORWARDED_PATHS = ["/v1/images/generations", "/v1/images/edits", "/v1/images/variations"] as const;

export type ForwardedPath = (typeof FORWARDED_PATHS)[number];

export type RouteMatch =
  | { kind: "forward"; path: ForwardedPath }
  | { kind: "health" }
  | { kind: "method_not_allowed"; allow: string }
  | { kind: "not_found" };

export const HEALTH_PATH = "/_relay/health";

/** Matches on the exact path (no normalisation, no prefix matching) and the method. */
export function matchRoute(method: string, pathname: string): RouteMatch {
  if ((FORWARDED_PATHS as readonly string[]).includes(pathname)) {
    return method === "POST"
      ? { kind: "forward", path: pathname as ForwardedPath }
      : { kind: "method_not_allowed", allow: "POST" };
  }
  if (pathname === HEALTH_PATH) {
    return method === "GET" ? { kind: "health" } : { kind: "method_not_allowed", allow: "GET" };
  }
  return { kind: "not_found" };
}
