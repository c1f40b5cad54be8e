/**
 * The bench's upstream: a minimal node:http server that answers POST /v1/images/* with canned
 * bytes (well under 1 ms each), so that what the bench measures is the hop in front of it, not
 * image generation. Unlike tools/openai-stand-in it draws nothing per request.
 *
 * The request body picks the answer: `bench:1mb` anywhere in it (the prompt carries it through
 * the app and the relay unchanged). SSE answers (`bench:sse-small id=x events=5 gap=20`) record
 * when each event's first byte was written, on the machine-wide monotonic clock, and
 * GET /_bench/sse/<id> hands those times to the client that compares them with arrival times.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ANSWER_KINDS, type AnswerKind, buildAnswers, buildSseEvents, SSE_KINDS, type SseKind } from "./answers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Directive {
  kind: AnswerKind | SseKind;
  id: string;
  events: number;
  gapMs: number;
  /** `limit=5 window=2000`: answer OpenAI's rate-limit 429 past 5 calls in any 2 s (0: no limit). */
  limit: number;
  windowMs: number;
}

const KINDS: readonly string[] = [...ANSWER_KINDS, ...SSE_KINDS];

/** Reads `bench:<kind> id=<id> events=<n> gap=<ms>` from the request body (defaults: small). */
function isSseKind(kind: string): kind is SseKind {
  return (SSE_KINDS as readonly string[]).includes(kind);
}

export function parseDirective(body: string): Directive {
  const kind = /bench:([a-z0-9-]+)/.exec(body)?.[1] ?? "small";
  const num = (name: string, fallback: number) => Number(new RegExp(`${name}=(\\d+)`).exec(body)?.[1] ?? fallback);
  return {
    kind: (KINDS.includes(kind) ? kind : "small") as Directive["kind"],
    id: /id=([A-Za-z0-9_-]+)/.exec(body)?.[1] ?? "",
    events: Math.min(num("events", 5), 20),
    gapMs: Math.min(num("gap", 20), 1000),
    limit: num("limit", 0),
    windowMs: num("window", 60_000),
  };
}

export class BenchUpstream {
  private server: Server | undefined;
  private readonly answers = buildAnswers();
  private readonly sseEvents = new Map<string, Buffer[]>();
  /** Stream id -> hrtime (ns) at which each event's first byte was handed to the socket. */
  private readonly sent = new Map<string, bigint[]>();
  /** When each POST arrived (ms, monotonic) and its status, for the queue phase's window counts. */
  private arrivals: Array<{ ms: number; status: number }> = [];

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error("bench upstream not started");
    return `http://127.0.0.1:${address.port}`;
  }

  async start(port = 0): Promise<this> {
    const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    // Workerd and the load generator keep connections open between phases; never close them first.
    server.keepAliveTimeout = 10 * 60_000;
    server.headersTimeout = server.keepAliveTimeout + 1000;
    server.requestTimeout = 0;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = req.url ?? "/";

    if (req.method === "GET" && path.startsWith("/_bench/sse/")) {
      const id = path.slice("/_bench/sse/".length);
      const times = this.sent.get(id) ?? [];
      this.sent.delete(id);
      return json(res, 200, { sent_ns: times.map(String) });
    }
    if (req.method === "GET" && path === "/_bench/ping") return json(res, 200, { ok: true });
    if (req.method === "GET" && path === "/_bench/arrivals") {
      const arrivals = this.arrivals;
      this.arrivals = [];
      return json(res, 200, { arrivals });
    }
    if (req.method !== "POST" || !path.startsWith("/v1/images/")) return json(res, 404, { error: { code: "nf" } });

    const directive = parseDirective(Buffer.concat(chunks).toString("utf8"));
    const ms = performance.now();
    const waitMs = directive.limit ? this.overLimit(ms, directive) : 0;
    this.arrivals.push({ ms, status: waitMs ? 429 : 200 });
    if (waitMs) return rateLimited(res, waitMs);
    if (isSseKind(directive.kind)) return this.stream(res, { ...directive, kind: directive.kind });
    const body = this.answers[directive.kind];
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": body.byteLength,
      "x-request-id": "req_bench_upstream",
      "openai-processing-ms": "1",
    });
    res.end(body);
  }

  /** Ms until a call fits under `limit` answered calls per trailing window, or 0 when it fits now. */
  private overLimit(ms: number, { limit, windowMs }: Directive): number {
    const answered = this.arrivals.filter((a) => a.status === 200 && a.ms > ms - windowMs);
    if (answered.length < limit) return 0;
    return Math.max(1, Math.ceil((answered[answered.length - limit] as { ms: number }).ms + windowMs - ms));
  }

  private async stream(res: ServerResponse, directive: Directive & { kind: SseKind }): Promise<void> {
    const key = `${directive.kind}:${directive.events}`;
    let events = this.sseEvents.get(key);
    if (!events) {
      events = buildSseEvents(directive.kind, directive.events);
      this.sseEvents.set(key, events);
    }
    const times: bigint[] = [];
    this.sent.set(directive.id, times);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.flushHeaders();
    for (const event of events) {
      await sleep(directive.gapMs);
      if (res.destroyed) return;
      times.push(process.hrtime.bigint());
      if (!res.write(event)) await new Promise((resolve) => res.once("drain", resolve));
    }
    res.end();
  }
}

/** OpenAI's rate-limit answer, with the wait hints it sends. */
function rateLimited(res: ServerResponse, waitMs: number): void {
  const text = JSON.stringify({
    error: {
      message: "Rate limit reached for images per minute.",
      type: "requests",
      param: null,
      code: "rate_limit_exceeded",
    },
  });
  res.writeHead(429, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "retry-after": String(Math.ceil(waitMs / 1000)),
    "retry-after-ms": String(waitMs),
  });
  res.end(text);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
