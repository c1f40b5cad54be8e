/**
 * An Images API upstream that misbehaves on cue, at the TCP level, for the egress fault tests:
 * resets before the headers or mid-body, a body shorter than its Content-Length, slow headers,
 * a stalled body, any status. It answers raw HTTP/1.1 so that each fault is exact (a Node HTTP
 * server would tidy some of them up). Faults are queued per call; with none queued it answers
 * a normal generation. A "call" is a request whose body arrived in full: what OpenAI bills.
 */
import { createServer, type Server, type Socket } from "node:net";
import { placeholderPng } from "../../tools/openai-stand-in/png.ts";

export type Fault =
  | { kind: "ok"; framing?: "length" | "chunked" | "close"; chunk?: number }
  | { kind: "reset_before_headers" }
  | { kind: "reset_mid_body" }
  | { kind: "truncated" }
  | { kind: "slow_headers"; ms: number }
  | { kind: "slow_body"; ms: number }
  | { kind: "status"; status: number; body: unknown; headers?: Record<string, string> }
  /** A body sent as given (an SSE stream, say), with its own headers. */
  | { kind: "raw"; status: number; body: string; headers: Record<string, string> }
  /** A hostile upstream: an OpenAI error whose message repeats the Authorization header sent. */
  | { kind: "echo_auth"; status: number; headers?: Record<string, string> };

export interface FaultCall {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A generation's answer as OpenAI sends it. */
export function imagesAnswer(): Buffer {
  const png = placeholderPng(64, 64, "fault upstream");
  return Buffer.from(
    JSON.stringify({
      created: Math.floor(Date.now() / 1000),
      data: [{ b64_json: png.toString("base64") }],
      usage: { input_tokens: 10, output_tokens: 100, total_tokens: 110 },
    }),
  );
}

export class FaultUpstream {
  readonly calls: FaultCall[] = [];
  private readonly queue: Fault[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  get port(): number {
    const address = this.server?.address();
    if (!address || typeof address === "string") throw new Error("fault upstream not started");
    return address.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Queues faults for the next calls, in order. */
  next(...faults: Fault[]): this {
    this.queue.push(...faults);
    return this;
  }

  reset(): void {
    this.calls.length = 0;
    this.queue.length = 0;
  }

  async start(): Promise<this> {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("error", () => {});
      this.serve(socket).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async serve(socket: Socket): Promise<void> {
    const call = await readRequest(socket);
    if (!call) return;
    this.calls.push(call);
    const fault = this.queue.shift() ?? { kind: "ok" };
    const body = imagesAnswer();
    const head = (status: number, headers: Record<string, string>) =>
      `HTTP/1.1 ${status} X\r\n${Object.entries({
        "content-type": "application/json",
        "x-request-id": `req_fault_${this.calls.length}`,
        ...headers,
      })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("")}\r\n`;
    const half = Math.floor(body.length / 2);
    switch (fault.kind) {
      case "ok": {
        const framing = fault.framing ?? "length";
        if (framing === "length")
          return void socket.end(
            Buffer.concat([Buffer.from(head(200, { "content-length": String(body.length) })), body]),
          );
        if (framing === "close") {
          socket.write(head(200, { connection: "close" }));
          return void socket.end(body);
        }
        socket.write(head(200, { "transfer-encoding": "chunked" }));
        const size = fault.chunk ?? 1000;
        for (let i = 0; i < body.length; i += size) {
          const part = body.subarray(i, i + size);
          socket.write(`${part.length.toString(16)}\r\n`);
          socket.write(part);
          socket.write("\r\n");
          await sleep(1);
        }
        return void socket.end("0\r\n\r\n");
      }
      case "reset_before_headers":
        return void socket.resetAndDestroy();
      case "reset_mid_body":
        socket.write(head(200, { "content-length": String(body.length) }));
        socket.write(body.subarray(0, half));
        await sleep(50);
        return void socket.resetAndDestroy();
      case "truncated":
        socket.write(head(200, { "content-length": String(body.length) }));
        return void socket.end(body.subarray(0, half));
      case "slow_headers":
        await sleep(fault.ms);
        if (socket.destroyed) return;
        return void socket.end(
          Buffer.concat([Buffer.from(head(200, { "content-length": String(body.length) })), body]),
        );
      case "slow_body":
        socket.write(head(200, { "content-length": String(body.length) }));
        socket.write(body.subarray(0, half));
        await sleep(fault.ms);
        if (socket.destroyed) return;
        return void socket.end(body.subarray(half));
      case "status":
      case "raw":
      case "echo_auth": {
        const auth = call.headers.authorization ?? "";
        const text = Buffer.from(
          fault.kind === "raw"
            ? fault.body
            : JSON.stringify(
                fault.kind === "status"
                  ? fault.body
                  : {
                      error: {
                        message: `Invalid header Authorization: ${auth} (the key ${auth.replace(/^Bearer /, "")} is not valid)`,
                        type: "invalid_request_error",
                        param: null,
                        code: null,
                      },
                    },
              ),
        );
        return void socket.end(
          Buffer.concat([
            Buffer.from(head(fault.status, { "content-length": String(text.length), ...fault.headers })),
            text,
          ]),
        );
      }
    }
  }
}

/** Reads one request (head, then a Content-Length or chunked body); undefined if it never completes. */
function readRequest(socket: Socket): Promise<FaultCall | undefined> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) return;
      const [line = "", ...fields] = data.subarray(0, end).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const f of fields) {
        const colon = f.indexOf(":");
        headers[f.slice(0, colon).trim().toLowerCase()] = f.slice(colon + 1).trim();
      }
      const rest = data.subarray(end + 4);
      let body: Buffer | undefined;
      if (headers["transfer-encoding"]?.includes("chunked")) body = dechunk(rest);
      else {
        const length = Number(headers["content-length"] ?? 0);
        if (rest.length >= length) body = rest.subarray(0, length);
      }
      if (body === undefined) return;
      socket.off("data", onData);
      const [method = "", path = ""] = line.split(" ");
      resolve({ method, path, headers, body });
    };
    socket.on("data", onData);
    socket.on("close", () => resolve(undefined));
  });
}

/** The body of a complete chunked message, or undefined while it is incomplete. */
function dechunk(bytes: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = bytes.indexOf("\r\n", at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(bytes.subarray(at, eol).toString("latin1"), 16);
    if (size === 0) return bytes.length >= eol + 4 ? Buffer.concat(parts) : undefined;
    if (bytes.length < eol + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
