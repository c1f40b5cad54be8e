/**
 * The app's OPENAI_PROXY as npm start reads it: which routes, in order, and whether one of them is
 * a forward proxy (the app then calls OpenAI itself and needs OPENAI_API_KEY and OPENAI_BASE_URL).
 * Only labels entries for the split and the banner; the app's own parser
 * (workers/app/src/egress/routes.ts) decides what is valid and names bad entries in its
 * config_error. Never returns a credential: a proxy is named by host:port only.
 */

export type RouteKind = "relay" | "relay_url" | "proxy" | "invalid";

export interface RouteEntry {
  /** 1-based position in OPENAI_PROXY, as the app's errors count it. */
  entry: number;
  kind: RouteKind;
  /** Words for the banner, e.g. "forward proxy 127.0.0.1:3128". */
  label: string;
}

/** The entries of OPENAI_PROXY in order; unset or blank means the local relay (the RELAY binding). */
export function egressRoutes(value: string | undefined): RouteEntry[] {
  const entries = (value ?? "").split(",").map((s) => s.trim());
  if (entries.every((e) => e === "")) return [{ entry: 1, kind: "relay", label: "the local relay (RELAY binding)" }];
  return entries.map((text, index) => ({ entry: index + 1, ...classify(text) }));
}

function classify(text: string): Omit<RouteEntry, "entry"> {
  if (text === "relay:") return { kind: "relay", label: "the local relay (RELAY binding)" };
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol === "https:" && url.host)
    return { kind: "relay_url", label: `a relay over the internet at ${url.host}` };
  if (url?.protocol === "http:" && url.host) return { kind: "proxy", label: `forward proxy ${url.host}` };
  return { kind: "invalid", label: "not a valid route (the app will answer config_error naming this entry)" };
}

/** Whether the app calls OpenAI itself through some route, so it needs the key. */
export const hasProxyRoute = (routes: readonly RouteEntry[]) => routes.some((r) => r.kind === "proxy");

/** Whether the local relay worker serves some route (else it idles and needs no upstream). */
export const usesLocalRelay = (routes: readonly RouteEntry[]) => routes.some((r) => r.kind === "relay");
