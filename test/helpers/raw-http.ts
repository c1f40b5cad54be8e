/**
 * Sends bytes exactly as given over TCP, for requests that well-behaved clients refuse to make
 * (CRLF in values, duplicate lengths, odd request targets), and reads the status back.
 */
import { connect } from "node:net";

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

export function rawRequest(baseUrl: string, bytes: string | Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error("raw request timed out")), timeoutMs);
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", (err) => {
      clearTimeout(timer);
      // A reset after the answer arrived still counts as that answer.
      if (chunks.length > 0) finish();
      else reject(err);
    });
    socket.on("end", () => {
      clearTimeout(timer);
      finish();
    });
    function finish() {
      const text = Buffer.concat(chunks).toString("latin1");
      const [head = "", ...rest] = text.split("\r\n\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: rest.join("\r\n\r\n") });
    }
  });
}

/** An HTTP/1.1 request with Connection: close, from a target, headers and body. */
export function httpText(method: string, target: string, headers: Record<string, string>, body = ""): string {
  const lines = [`${method} ${target} HTTP/1.1`, "Host: relay.test", "Connection: close"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body && !Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h))) {
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  }
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

export interface HeldResponse extends RawResponse {
  /** Milliseconds from connecting to the first byte of the answer; null: none came. */
  answeredMs: number | null;
  /** Milliseconds from connecting until the server closed the connection; null: still open at the end. */
  closedMs: number | null;
}

/**
 * Writes `bytes` and keeps the sending side open (as a client still uploading, or stalled, would),
 * then watches for at most `waitMs`: when the answer came, and when the server closed.
 */
export function heldRequest(baseUrl: string, bytes: string | Buffer, waitMs: number): Promise<HeldResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    let answeredMs: number | null = null;
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    socket.on("data", (c) => {
      answeredMs ??= Date.now() - started;
      chunks.push(c);
    });
    // A reset after the answer still counts as that answer; the close below reports it.
    socket.on("error", () => {});
    const finish = (closedMs: number | null) => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const [head = "", ...rest] = text.split("\r\n\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: rest.join("\r\n\r\n"), answeredMs, closedMs });
    };
    socket.on("close", () => finish(Date.now() - started));
    const timer = setTimeout(() => finish(null), waitMs);
  });
}
