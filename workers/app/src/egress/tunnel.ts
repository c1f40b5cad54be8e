/**
 * A CONNECT tunnel through a classic HTTP forward proxy (Squid, tinyproxy, 3proxy, commercial
 * ones): TCP to the proxy, `CONNECT host:port`, then TLS with the upstream's own name, so the
 * proxy sees only the host name and encrypted bytes. Every failure here happens before any byte
 * of the call is sent, and is reported as a RouteError.
 */
import { connect } from "cloudflare:sockets";
import { ByteSource } from "./byte-source";
import { readResponseHead, requestHead } from "./http1";
import type { ProxyRoute } from "./routes";
import { stageTimer } from "./timers";
import { RouteError } from "./types";

/** Where the tunnel leads: the host of OPENAI_BASE_URL. */
export interface TunnelTarget {
  host: string;
  port: number;
  tls: boolean;
}

export function tunnelTarget(baseUrl: URL): TunnelTarget {
  const tls = baseUrl.protocol === "https:";
  return { host: baseUrl.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(baseUrl.port) || (tls ? 443 : 80), tls };
}

const authority = (t: TunnelTarget) => `${t.host.includes(":") ? `[${t.host}]` : t.host}:${t.port}`;

/**
 * Opens the tunnel within `timeoutMs` (TCP, the proxy's answer and the TLS handshake together).
 * Returns the socket to speak HTTP over: TLS-wrapped when the target is https. Long because the
 * three steps share one deadline and one socket, and each failure gets its own RouteError kind.
 */
export async function openTunnel(
  route: ProxyRoute,
  target: TunnelTarget,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Socket> {
  const proxy = route.name.slice("proxy:".length);
  const fail = (kind: RouteError["kind"], message: string, status?: number) =>
    new RouteError(route.name, kind, message, status);
  const timer = stageTimer(timeoutMs, signal, () =>
    fail("connect_timeout", `the proxy ${proxy} did not open a tunnel within ${timeoutMs} ms`),
  );
  const socket = connect(
    { hostname: route.host, port: route.port },
    { secureTransport: target.tls ? "starttls" : "off", allowHalfOpen: false },
  );
  try {
    await timer.race(socket.opened).catch((err) => {
      throw err instanceof RouteError || signal.aborted
        ? err
        : fail("connect", `could not connect to the proxy ${proxy}`);
    });

    const headers: Array<[string, string]> = [["Host", authority(target)]];
    if (route.basicAuth) headers.push(["Proxy-Authorization", `Basic ${route.basicAuth}`]);
    const writer = socket.writable.getWriter();
    const reader = socket.readable.getReader();
    const source = ByteSource.fromReader(reader);
    const head = await timer
      .race(writer.write(requestHead("CONNECT", authority(target), headers)).then(() => readResponseHead(source)))
      .catch((err) => {
        throw err instanceof RouteError || signal.aborted
          ? err
          : fail("tunnel_refused", `the proxy ${proxy} broke off the CONNECT exchange`);
      });
    if (head === undefined)
      throw fail("tunnel_refused", `the proxy ${proxy} closed the connection instead of answering CONNECT`);
    // 407 is the standard answer; some proxies (tinyproxy to wrong credentials) send 401.
    if (head.status === 407 || head.status === 401) {
      throw fail(
        "proxy_auth",
        route.basicAuth
          ? `the proxy ${proxy} refused the configured credentials (${head.status})`
          : `the proxy ${proxy} requires credentials (${head.status}); give them as http://user:password@host:port`,
        head.status,
      );
    }
    // A 5xx is the proxy's own failure to reach the upstream (tinyproxy answers 500 when it cannot
    // resolve or connect to it): its DNS or network, not its CONNECT rules (a 403 or 405 is those).
    if (head.status >= 500) {
      throw fail(
        "proxy_upstream_unreachable",
        `the proxy ${proxy} could not reach ${authority(target)} (its DNS or network; it answered CONNECT with ${head.status})`,
        head.status,
      );
    }
    if (head.status < 200 || head.status > 299) {
      throw fail(
        "tunnel_refused",
        `the proxy ${proxy} refused the tunnel to ${authority(target)} (${head.status})`,
        head.status,
      );
    }
    // The upstream speaks only after we do; anything here would be misread as its answer.
    if (source.buffered > 0) throw fail("tunnel_refused", `the proxy ${proxy} sent data before the tunnel opened`);
    writer.releaseLock();
    reader.releaseLock();
    if (!target.tls) return socket;

    // The certificate must be valid for the upstream's name, as if there were no proxy.
    const secure = socket.startTls({ expectedServerHostname: target.host });
    await timer.race(secure.opened).catch((err) => {
      throw err instanceof RouteError || signal.aborted
        ? err
        : fail("tls", `TLS with ${target.host} through the proxy ${proxy} failed (handshake or certificate)`);
    });
    return secure;
  } catch (err) {
    socket.close().catch(() => {});
    throw err;
  } finally {
    timer.clear();
  }
}
