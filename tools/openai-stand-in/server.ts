/**
 * A local stand-in for OpenAI's Images API, used by `npm start` without a key and by the tests.
 * It behaves like the real API where the project depends on it: JSON and SSE answers, b64_json
 * and url forms, OpenAI's error bodies and headers, slowness, large bodies, and cookies that a
 * proxy must not pass on. Scenarios are chosen by directives in the prompt, e.g.
 * "a cat [[region_block]]" or "a cat [[slow=3000]] [[url]]" (see README "Stand-in scenarios").
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ERRORS, invalidKey, type StandInError } from "./errors.ts";
import { largePng, placeholderPng } from "./png.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface StandInOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`, as with the real API. */
  apiKey?: string;
  /** Print a warning on every image that it is a placeholder (for `npm start`). */
  loud?: boolean;
  /**
   * The country the stand-in "sees" callers in (its /cdn-cgi/trace loc=). A refused one such as
   * "RU" makes every API call a region block, as OpenAI does for a badly placed relay.
   */
  country?: string;
  /**
   * The https origin that url answers name instead of the stand-in's own loopback address (the
   * app downloads only from https public hosts). Tests map it to the stand-in on the app's test
   * network (test/helpers/stack.ts `standInFiles`); nothing resolves it anywhere else.
   */
  filesOrigin?: string;
  /**
   * An organisation-wide images limit, as OpenAI's images per minute: calls whose `n` would take
   * the images accepted in the trailing `windowMs` past `images` get OpenAI's rate-limit 429 with
   * `retry-after`/`retry-after-ms`. Refused calls are not counted. A call on an empty window is
   * accepted whatever its `n` (how OpenAI treats n above the limit is not known).
   */
  imagesPerWindow?: { images: number; windowMs: number };
}

const REFUSED_COUNTRIES = ["RU", "BY", "CN", "HK", "IR", "KP", "SY", "CU"];

type Directives = Map<string, string>;

const MODELS = [
  "gpt-image-2",
  "gpt-image-1.5",
  "gpt-image-1",
  "gpt-image-1-mini",
  "chatgpt-image-latest",
  "dall-e-2",
  "dall-e-3",
];

/** `[[name]]` or `[[name=value]]` anywhere in the prompt. */
export function parseDirectives(prompt: string): Directives {
  const out: Directives = new Map();
  for (const m of prompt.matchAll(/\[\[([a-z_]+)(?:=([^\]]*))?\]\]/g)) out.set(m[1] as string, m[2] ?? "");
  return out;
}

/**
 * Images actually returned for `n` asked: all, or `[[images=K]]` (at most n) for the path where
 * OpenAI returns fewer images than asked.
 */
const imagesReturned = (d: Directives, n: number) =>
  d.has("images") ? Math.min(n, Math.max(0, Number(d.get("images")) || 0)) : n;

/** Output tokens reported per image: 1056 (1024x1024 medium), or `[[output_tokens=N]]` (an over-report). */
const outputTokens = (d: Directives) => Number(d.get("output_tokens")) || 1056;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function dimensions(size: unknown): [number, number] {
  const m = typeof size === "string" ? /^(\d+)x(\d+)$/.exec(size) : null;
  // Placeholders are drawn at a quarter of the asked size: same aspect, far less CPU.
  if (!m) return [256, 256];
  return [Math.max(16, Math.round(Number(m[1]) / 4)), Math.max(16, Math.round(Number(m[2]) / 4))];
}

export class OpenAIStandIn {
  readonly requests: RecordedRequest[] = [];
  /** Every image the stand-in has sent, in order (b64, url or stream), for byte comparisons. */
  readonly sentImages: Buffer[] = [];
  private server: Server | undefined;
  private files = new Map<string, Buffer>();
  private holds: Array<() => void> = [];
  private blockedOnce = new Set<string>();
  /** Requests whose body never arrived in full (the caller aborted or reset). */
  abortedRequests = 0;
  /** Calls whose caller hung up before the answer was complete (a cancelled upstream call). */
  closedEarly = 0;
  /** 429s answered by the `imagesPerWindow` limit (to assert "at most one 429 per discovery"). */
  rateLimited = 0;
  private acceptedImages: Array<{ at: number; images: number }> = [];
  private options: StandInOptions;

  constructor(options: StandInOptions = {}) {
    this.options = options;
  }

  /** Base URL, e.g. http://127.0.0.1:40123 (no trailing slash). */
  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error("stand-in not started");
    return `http://127.0.0.1:${address.port}`;
  }

  /** Calls to the Images API only (not file downloads or the stand-in's own endpoints). */
  get apiCalls(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith("/v1/"));
  }

  async start(port = 0, host = "127.0.0.1"): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
        console.error("stand-in error", err);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(port, host, resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Lets every answer held by `[[hold]]` finish. */
  release(): void {
    for (const go of this.holds.splice(0)) go();
  }

  reset(): void {
    this.requests.length = 0;
    this.sentImages.length = 0;
    this.abortedRequests = 0;
    this.closedEarly = 0;
    this.rateLimited = 0;
    this.acceptedImages.length = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      // The caller gave up mid-body (or was made to): the call never reached the API.
      this.abortedRequests++;
      return;
    }
    const body = Buffer.concat(chunks);
    const path = (req.url ?? "/").split("?")[0] as string;
    res.on("close", () => {
      if (!res.writableFinished) this.closedEarly++;
    });
    this.requests.push({ method: req.method ?? "", path, headers: { ...req.headers }, body });

    if (req.method === "GET" && path.startsWith("/files/")) return this.serveFile(path.slice(7), res);
    if (req.method === "GET" && path === "/_stand-in/requests") {
      return json(
        res,
        200,
        this.requests.map((r) => ({ ...r, body: r.body.toString("utf8").slice(0, 2000) })),
      );
    }
    if (req.method === "GET" && path === "/cdn-cgi/trace") {
      const loc = this.options.country ?? "US";
      res.writeHead(200, { "content-type": "text/plain" });
      return void res.end(
        `fl=1f1\nh=api.openai.com\nip=127.0.0.1\nts=0\nvisit_scheme=https\nloc=${loc}\ncolo=${loc === "US" ? "IAD" : "DME"}\nhttp=http/1.1\n`,
      );
    }
    if (REFUSED_COUNTRIES.includes(this.options.country ?? "") && path.startsWith("/v1/")) {
      return this.fail(res, ERRORS.region_block);
    }
    if (req.method === "GET" && path === "/v1/models") {
      const auth = req.headers.authorization;
      if (this.options.apiKey !== undefined && auth !== `Bearer ${this.options.apiKey}`) {
        return this.fail(res, invalidKey(auth?.replace(/^Bearer\s+/i, "")));
      }
      const list = MODELS.map((id) => ({ id, object: "model", owned_by: "system" }));
      return json(res, 200, { object: "list", data: list }, this.commonHeaders());
    }
    const known = ["/v1/images/generations", "/v1/images/edits", "/v1/images/variations"];
    if (!known.includes(path)) {
      return this.fail(res, {
        status: 404,
        error: {
          message: `Invalid URL (${req.method} ${path})`,
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      });
    }
    if (req.method !== "POST") {
      return this.fail(res, {
        status: 405,
        error: {
          message: `Invalid method for URL (${req.method} ${path})`,
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      });
    }

    const auth = req.headers.authorization;
    if (this.options.apiKey !== undefined && auth !== `Bearer ${this.options.apiKey}`) {
      return this.fail(res, invalidKey(auth?.replace(/^Bearer\s+/i, "")));
    }

    const params =
      path === "/v1/images/generations" ? parseJson(body) : parseMultipartFields(body, req.headers["content-type"]);
    if (!params) {
      return this.fail(res, {
        status: 400,
        error: {
          message: "We could not parse the JSON body of your request.",
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      });
    }
    const prompt = typeof params.prompt === "string" ? params.prompt : "";
    const d = parseDirectives(prompt);
    const model = typeof params.model === "string" ? params.model : "dall-e-2";
    if (!MODELS.includes(model)) {
      return this.fail(res, {
        status: 400,
        error: {
          message: `Invalid value: '${model}'. Supported values are: ${MODELS.map((m) => `'${m}'`).join(", ")}.`,
          type: "invalid_request_error",
          param: "model",
          code: "invalid_value",
        },
      });
    }

    const overLimit = this.overImagesLimit(Math.min(10, Math.max(1, Number(params.n) || 1)));
    if (overLimit) return this.fail(res, overLimit);
    if (d.has("slow")) await sleep(Number(d.get("slow")) || 1000);
    // Refused the first time a prompt is seen, served after: a relay that resends succeeds.
    if (d.has("region_block_once") && !this.blockedOnce.has(prompt)) {
      this.blockedOnce.add(prompt);
      return this.fail(res, ERRORS.region_block);
    }
    for (const [name, scenario] of Object.entries(ERRORS)) {
      if (d.has(name)) return this.fail(res, scenario);
    }
    if (d.has("reset")) return void req.socket.destroy();
    if (d.has("not_json")) {
      res.writeHead(200, { "content-type": "application/json", ...this.commonHeaders() });
      return void res.end("<html>upstream proxy error</html>");
    }

    const [w, h] = dimensions(params.size);
    const n = imagesReturned(d, Math.min(10, Math.max(1, Number(params.n) || 1)));
    // `[[not_image]]`: every image is not one; `[[not_image=K]]`: only the K-th (from 0) of a JSON answer.
    const notImage = d.get("not_image");
    let made = 0;
    const image = (stage: number) => {
      const index = made++;
      const bytes = d.has("big")
        ? largePng(Number(d.get("big")) * 1024 * 1024)
        : notImage !== undefined && (notImage === "" || Number(notImage) === index)
          ? Buffer.from("definitely not an image")
          : placeholderPng(w, h, prompt, stage);
      this.sentImages.push(bytes);
      return bytes;
    };
    if (this.options.loud)
      console.warn(
        `[openai-stand-in] PLACEHOLDER image for ${model} (no OPENAI_API_KEY: this is not a real generation)`,
      );

    if (params.stream === true || params.stream === "true") {
      // OpenAI names a streamed edit's events image_edit.*, a generation's image_generation.*.
      const kind = path === "/v1/images/edits" ? "image_edit" : "image_generation";
      // What a stream does with n > 1 is not settled (docs/design/durable-generations.md §5): one completed
      // event whatever n (the default, `[[stream_n=one]]`) or one per image (`[[stream_n=each]]`).
      return this.stream(res, params, d, image, kind, d.get("stream_n") === "each" ? n : Math.min(n, 1));
    }

    const wantsUrl = d.has("url") || params.response_format === "url";
    const data = Array.from({ length: n }, () => {
      const bytes = image(3);
      if (!wantsUrl) return { b64_json: bytes.toString("base64") };
      const id = randomBytes(8).toString("hex");
      this.files.set(id, bytes);
      return { url: `${this.options.filesOrigin ?? this.url}/files/${id}.png` };
    }).map((entry) =>
      model === "dall-e-3" ? { ...entry, revised_prompt: `A detailed rendering of: ${prompt}` } : entry,
    );

    const answer = {
      created: Math.floor(Date.now() / 1000),
      data,
      ...(model.startsWith("gpt-image") || model.startsWith("chatgpt")
        ? {
            background: params.background ?? "opaque",
            output_format: "png",
            quality: params.quality ?? "medium",
            size: params.size ?? "1024x1024",
            usage: {
              input_tokens: 50,
              output_tokens: outputTokens(d) * n,
              total_tokens: 50 + outputTokens(d) * n,
              input_tokens_details: { text_tokens: 50, image_tokens: 0 },
            },
          }
        : {}),
    };
    const text = Buffer.from(JSON.stringify(answer));
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": String(text.length),
      ...this.commonHeaders(),
    });
    if (d.has("hold")) {
      // Send the first part, then wait: a client that sees it before release() got a stream.
      const first = Math.min(64 * 1024, text.length - 1);
      res.write(text.subarray(0, first));
      await new Promise<void>((resolve) => this.holds.push(resolve));
      res.end(text.subarray(first));
      return;
    }
    res.end(text);
  }

  /** SSE as the real API sends it: partial images, then the completed image(s) with usage (`kind.*` events). */
  private async stream(
    res: ServerResponse,
    params: Record<string, unknown>,
    d: Directives,
    image: (stage: number) => Buffer,
    kind: "image_generation" | "image_edit",
    images = 1,
  ): Promise<void> {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      ...this.commonHeaders(),
    });
    const partials = Math.min(3, Math.max(0, Number(params.partial_images) || 0));
    const common = {
      created_at: Math.floor(Date.now() / 1000),
      size: params.size ?? "1024x1024",
      quality: params.quality ?? "medium",
      background: params.background ?? "opaque",
      output_format: "png",
    };
    for (let k = 0; k < images; k++) await this.streamImage(res, d, image, kind, partials, common, k + 1);
    res.end();
  }

  /** One image of a stream: its partials, then its completed event with the call's usage so far. */
  private async streamImage(
    res: ServerResponse,
    d: Directives,
    image: (stage: number) => Buffer,
    kind: "image_generation" | "image_edit",
    partials: number,
    common: Record<string, unknown>,
    imagesSoFar: number,
  ): Promise<void> {
    const gap = Number(d.get("gap")) || 50;
    for (let i = 0; i < partials; i++) {
      // Hold right after the first event is written (same tick), so release() can't come first.
      if (d.has("hold") && i === 1 && imagesSoFar === 1) await new Promise<void>((resolve) => this.holds.push(resolve));
      await sleep(gap);
      const event = {
        type: `${kind}.partial_image`,
        b64_json: image(i).toString("base64"),
        partial_image_index: i,
        ...common,
      };
      res.write(`event: ${kind}.partial_image\ndata: ${JSON.stringify(event)}\n\n`);
    }
    await sleep(gap);
    const done = {
      type: `${kind}.completed`,
      b64_json: image(3).toString("base64"),
      ...common,
      usage: {
        input_tokens: 50,
        output_tokens: (outputTokens(d) + 100 * partials) * imagesSoFar,
        total_tokens: 50 + (outputTokens(d) + 100 * partials) * imagesSoFar,
      },
    };
    res.write(`event: ${kind}.completed\ndata: ${JSON.stringify(done)}\n\n`);
  }

  private serveFile(name: string, res: ServerResponse): void {
    const bytes = this.files.get(name.replace(/\.png$/, ""));
    if (!bytes) {
      res.writeHead(404, { "content-type": "application/xml" });
      return void res.end("<Error><Code>BlobNotFound</Code></Error>");
    }
    res.writeHead(200, { "content-type": "image/png", "content-length": String(bytes.length) });
    res.end(bytes);
  }

  /** Counts `images` against `imagesPerWindow`, or answers OpenAI's 429 when they do not fit. */
  private overImagesLimit(images: number): StandInError | undefined {
    const limit = this.options.imagesPerWindow;
    if (!limit) return undefined;
    const now = Date.now();
    const inWindow = this.acceptedImages.filter((a) => a.at > now - limit.windowMs);
    this.acceptedImages = inWindow;
    let used = inWindow.reduce((sum, a) => sum + a.images, 0);
    if (used === 0 || used + images <= limit.images) {
      this.acceptedImages.push({ at: now, images });
      return undefined;
    }
    this.rateLimited++;
    const total = used;
    // The wait until enough of the window has left for this call to fit.
    let waitMs = limit.windowMs;
    for (const a of inWindow) {
      used -= a.images;
      if (used + images <= limit.images) {
        waitMs = Math.max(1, a.at + limit.windowMs - now);
        break;
      }
    }
    return rateLimitedImages(limit.images, total, images, waitMs);
  }

  private fail(res: ServerResponse, e: StandInError): void {
    json(res, e.status, { error: e.error }, { ...this.commonHeaders(), ...e.headers });
  }

  /** Headers the real API sends, including a cookie from its CDN that proxies must not forward. */
  private commonHeaders(): Record<string, string> {
    return {
      "x-request-id": `req_${randomBytes(16).toString("hex")}`,
      "openai-processing-ms": "42",
      "openai-version": "2020-10-01",
      "x-ratelimit-limit-requests": "50",
      "x-ratelimit-remaining-requests": "49",
      "set-cookie": "__cf_bm=standin; path=/; HttpOnly; Secure; SameSite=None",
      "cf-ray": "0000000000000000-IAD",
      "strict-transport-security": "max-age=31536000",
    };
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(text);
}

/** An images-per-minute 429 in OpenAI's rate-limit shape (type, code, both wait headers; wording approximated). */
function rateLimitedImages(limit: number, used: number, requested: number, waitMs: number): StandInError {
  const seconds = Math.round(waitMs / 100) / 10;
  return {
    status: 429,
    headers: { "retry-after": String(Math.ceil(waitMs / 1000)), "retry-after-ms": String(waitMs) },
    error: {
      message: `Rate limit reached for images per min (IPM): Limit ${limit}, Used ${used}, Requested ${requested}. Please try again in ${seconds}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      type: "requests",
      param: null,
      code: "rate_limit_exceeded",
    },
  };
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body.toString("utf8"));
    return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The text fields of a multipart/form-data body (files are ignored beyond being received). */
function parseMultipartFields(body: Buffer, contentType: string | undefined): Record<string, unknown> | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? "");
  if (!boundary) return undefined;
  const marker = `--${boundary[1] ?? boundary[2]}`;
  const fields: Record<string, unknown> = {};
  for (const part of body.toString("latin1").split(marker)) {
    const m = /name="([^"]+)"(?!; filename)[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n([\s\S]*)\r\n$/.exec(part);
    if (m) fields[m[1] as string] = Buffer.from(m[2] as string, "latin1").toString("utf8");
  }
  return fields;
}
