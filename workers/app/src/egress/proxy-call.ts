/**
 * One call to OpenAI through an HTTP forward proxy: open the tunnel (retryable failures), then
 * write the request and stream the answer back over HTTP/1.1 (failures never retried). The app
 * holds the key for this route, since no relay stands between it and OpenAI.
 */
import type { Logger } from "../../../shared/log";
import type { EgressConfig } from "../config";
import { afterSendError, errorName, passedHeaders, routeBodyWatch } from "./after-send";
import { watchedBody } from "./body";
import { ByteSource } from "./byte-source";
import { bodyFraming, encodeChunk, LAST_CHUNK, readBody, readResponseHead, requestHead } from "./http1";
import type { ProxyRoute } from "./routes";
import { stageTimer } from "./timers";
import { openTunnel, tunnelTarget } from "./tunnel";
import type { PreparedCall } from "./types";

class HeadersTimeout extends Error {}

/**
 * One call through a forward proxy: the tunnel (tunnel.ts), the request written as HTTP/1.1, the
 * answer's head read within its time limit, the body streamed and watched. Long because each
 * stage's failure must close the same socket and be told apart (before or after the call left:
 * the first may go to the next route, the second may have been billed).
 */
export async function callThroughProxy(
  route: ProxyRoute,
  egress: EgressConfig,
  call: PreparedCall,
  log: Logger,
  onBodyFailure: () => void,
): Promise<Response> {
  const base = new URL(egress.openaiBaseUrl);
  const socket = await openTunnel(route, tunnelTarget(base), egress.connectTimeoutMs, call.signal);

  // From here on the call may reach OpenAI: nothing below is retried.
  const close = () => {
    socket.close().catch(() => {});
  };
  call.signal.addEventListener("abort", close, { once: true });
  const release = () => call.signal.removeEventListener("abort", close);
  try {
    const headers: Array<[string, string]> = [
      ["Host", base.host],
      ["Authorization", `Bearer ${egress.openaiApiKey ?? ""}`],
      ["Accept", "application/json"],
      ["Accept-Encoding", "identity"],
      ["User-Agent", "openai-image-app"],
      ["X-Client-Request-Id", call.requestId],
      ["Connection", "close"],
    ];
    if (call.contentType) headers.push(["Content-Type", call.contentType]);
    if (call.body instanceof Uint8Array) headers.push(["Content-Length", String(call.body.byteLength)]);
    else if (call.body) headers.push(["Transfer-Encoding", "chunked"]);
    const target = base.pathname.replace(/\/+$/, "") + call.path;
    const head = requestHead(call.method, target, headers);

    const writer = socket.writable.getWriter();
    // Sent while the answer is awaited: a server may answer (413, 400) before the body is in.
    const sending = send(writer, head, call.body);
    sending.catch(() => {});
    const source = ByteSource.fromReader(socket.readable.getReader());
    const timer = stageTimer(egress.headersTimeoutMs, call.signal, () => new HeadersTimeout());
    const started = Date.now();
    let answer: Awaited<ReturnType<typeof readResponseHead>>;
    try {
      answer = await timer.race(readResponseHead(source));
    } catch (err) {
      if (err instanceof HeadersTimeout) {
        throw afterSendError("headers_timeout", route.name, log, { timeout_ms: egress.headersTimeoutMs });
      }
      if (call.signal.aborted) throw err;
      throw afterSendError("no_headers", route.name, log, { error: errorName(err), ms: Date.now() - started });
    } finally {
      timer.clear();
    }
    if (answer === undefined) {
      throw afterSendError("no_headers", route.name, log, { error: "closed", ms: Date.now() - started });
    }

    let framing: ReturnType<typeof bodyFraming>;
    try {
      framing = bodyFraming(call.method, answer);
    } catch (err) {
      onBodyFailure();
      throw afterSendError("body_broken", route.name, log, { bytes: 0, error: errorName(err) });
    }
    const out = passedHeaders(answer.headers);
    if (framing.kind === "none") {
      close();
      release();
      return new Response(null, { status: answer.status, statusText: answer.statusText, headers: out });
    }
    const chunks = readBody(source, framing);
    const body = watchedBody(
      async () => {
        const next = await chunks.next();
        return next.done ? undefined : next.value;
      },
      close,
      routeBodyWatch(route.name, egress.idleTimeoutMs, call.signal, log, onBodyFailure, () => {
        close();
        release();
      }),
    );
    return new Response(body, { status: answer.status, statusText: answer.statusText, headers: out });
  } catch (err) {
    close();
    release();
    throw err;
  }
}

async function send(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  head: Uint8Array,
  body: PreparedCall["body"],
): Promise<void> {
  if (body === undefined || body instanceof Uint8Array) {
    const bytes = new Uint8Array(head.byteLength + (body?.byteLength ?? 0));
    bytes.set(head);
    if (body) bytes.set(body, head.byteLength);
    await writer.write(bytes);
    return;
  }
  await writer.write(head);
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (value.byteLength > 0) await writer.write(encodeChunk(value));
  }
  await writer.write(LAST_CHUNK);
}
