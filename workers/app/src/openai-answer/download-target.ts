/**
 * Which URLs from an upstream answer the app may download. The URL is the upstream's word, so a
 * broken or hostile upstream (or a relay caller's) could point the app at anything it can reach:
 * only https on the default port, to a named public host, is allowed. Address literals are
 * refused outright (providers name their hosts; `https://127.0.0.1/`, `https://[::1]/`,
 * `https://[::ffff:10.0.0.1]/` and `https://2130706433/` are the usual ways past a name check),
 * and so are names that only mean something locally.
 *
 * Names are not resolved here (a Worker has no resolver to ask): a public name that resolves to
 * a private address is not caught by this check. On Cloudflare a Worker's fetch leaves from
 * Cloudflare's network, where there is no private network of the operator's behind it.
 */

/** Suffixes of names that are local by definition (RFC 6761, RFC 8375) or by common use. */
const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".localdomain", ".lan", ".intranet"];

/** Why the app won't download `raw`, in words for its log; undefined when it may. */
export function downloadRefusal(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not a URL";
  }
  if (url.protocol !== "https:") return `scheme ${url.protocol} (only https)`;
  if (url.username || url.password) return "credentials in the URL";
  // new URL() drops :443, so any port left is another one.
  if (url.port !== "") return `port ${url.port} (only 443)`;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[") || /^[0-9.]+$/.test(host) || /^0x/i.test(host)) return "an address, not a host name";
  if (!host.includes(".")) return "a single-label host name";
  if (host === "localhost" || LOCAL_SUFFIXES.some((s) => host.endsWith(s))) return "a local host name";
  return undefined;
}
