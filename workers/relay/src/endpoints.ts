import { RELAY_DIAGNOSTICS_PATH } from "../../shared/relay-protocol";

/**
 * The only requests the relay forwards. Anything else is answered locally and never reaches
 * OpenAI, so the relay can't be used as a general-purpose proxy.
 */
export const FORWARDED_PATHS = ["/v1/images/generations", "/v1/images/edits", "/v1/images/variations"] as const;

export type ForwardedPath = (typeof FORWARDED_PATHS)[number];

export type EndpointMatch =
  | { kind: "forward"; path: ForwardedPath }
  | { kind: "diagnostics" }
  | { kind: "method_not_allowed"; allow: string }
  | { kind: "not_found" };

/** Matches on the exact path (no normalisation, no prefix matching) and the method. */
export function matchEndpoint(method: string, pathname: string): EndpointMatch {
  if ((FORWARDED_PATHS as readonly string[]).includes(pathname)) {
    return method === "POST"
      ? { kind: "forward", path: pathname as ForwardedPath }
      : { kind: "method_not_allowed", allow: "POST" };
  }
  if (pathname === RELAY_DIAGNOSTICS_PATH) {
    return method === "GET" ? { kind: "diagnostics" } : { kind: "method_not_allowed", allow: "GET" };
  }
  return { kind: "not_found" };
}

/**
 * The path of an absolute URL as written, without parsing it: everything from the first "/"
 * after the authority up to "?" or "#". No dot-segment resolution, no percent-decoding.
 */
export function rawPath(url: string): string {
  const authorityStart = url.indexOf("//");
  const pathStart = url.indexOf("/", authorityStart < 0 ? 0 : authorityStart + 2);
  if (pathStart < 0) return "/";
  const rest = url.slice(pathStart);
  const end = rest.search(/[?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}
