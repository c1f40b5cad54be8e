/**
 * OPENAI_PROXY: an ordered, comma-separated list of the ways out to OpenAI. Each entry becomes a
 * route with a stable name that is safe to log and to send back in `x-egress-route` (never a
 * credential). Problems name the entry by its position only: a value may hold a password.
 */

/** The RELAY service binding: the relay worker without leaving Cloudflare. */
export interface BindingRoute {
  kind: "binding";
  name: "relay-binding";
}

/** A relay worker reached over the internet, authenticated with RELAY_TOKEN. */
export interface RelayUrlRoute {
  kind: "relay_url";
  name: string;
  baseUrl: string;
}

/** A classic HTTP forward proxy: CONNECT tunnel to OpenAI, TLS and HTTP/1.1 spoken by the app. */
export interface ProxyRoute {
  kind: "proxy";
  name: string;
  host: string;
  port: number;
  /** `user:password`, base64, for Proxy-Authorization: Basic. */
  basicAuth?: string;
}

export type EgressRoute = BindingRoute | RelayUrlRoute | ProxyRoute;

/** The reason an entry is refused; the caller files it under OPENAI_PROXY. */
export interface RouteProblem {
  entry: number;
  problem: string;
}

const USAGE = "use relay:, https://relay-host or http://[user:password@]proxy-host:port";

/** Parses the list; returns the routes (in order) and every problem found. */
export function parseRoutes(value: string | undefined): { routes: EgressRoute[]; problems: RouteProblem[] } {
  const entries = (value ?? "").split(",").map((s) => s.trim());
  const routes: EgressRoute[] = [];
  const problems: RouteProblem[] = [];
  // Unset (or only blanks) means the binding, as before this setting became a list.
  if (entries.every((e) => e === "")) return { routes: [{ kind: "binding", name: "relay-binding" }], problems };

  entries.forEach((entry, index) => {
    const result = parseEntry(entry);
    if (typeof result === "string") problems.push({ entry: index + 1, problem: result });
    else routes.push(result);
  });
  return { routes, problems };
}

function parseEntry(entry: string): EgressRoute | string {
  if (entry === "") return "is empty";
  if (entry === "relay:") return { kind: "binding", name: "relay-binding" };
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return `is not a URL; ${USAGE}`;
  }
  if (url.search || url.hash) return "must not have a query or fragment";
  if (url.protocol === "https:") {
    if (url.username || url.password) return "is a relay URL with credentials; put the token in RELAY_TOKEN instead";
    return { kind: "relay_url", name: `relay-url:${url.host}`, baseUrl: url.href.replace(/\/+$/, "") };
  }
  if (url.protocol === "http:") {
    // new URL() drops a default port, so an explicit :80 reads as none; proxies rarely use it.
    if (url.port === "") return "is an HTTP proxy without an explicit port (http://host:port)";
    if (url.pathname !== "/") return "is an HTTP proxy with a path; give only http://[user:password@]host:port";
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const route: ProxyRoute = { kind: "proxy", name: `proxy:${url.host}`, host, port: Number(url.port) };
    if (url.username || url.password) {
      const user = decoded(url.username);
      const password = decoded(url.password);
      // A malformed %-escape would otherwise throw a URIError on every request.
      if (user === undefined || password === undefined) {
        return "has a user name or password with a malformed %-escape (write % as %25)";
      }
      if (user.includes(":")) return "has a user name with ':' in it, which Basic authentication cannot carry";
      route.basicAuth = base64(`${user}:${password}`);
    }
    return route;
  }
  return `has an unsupported scheme; ${USAGE}`;
}

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function base64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Human words for logs and /api/health, e.g. "relay binding" or "proxy 10.0.0.1:3128, then relay binding". */
export function describeRoutes(routes: readonly EgressRoute[]): string {
  return routes
    .map((r) =>
      r.kind === "binding"
        ? "relay binding"
        : r.kind === "relay_url"
          ? `relay at ${r.name.slice("relay-url:".length)}`
          : `proxy ${r.name.slice("proxy:".length)}`,
    )
    .join(", then ");
}
