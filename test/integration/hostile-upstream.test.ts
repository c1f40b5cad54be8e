/**
 * What a hostile or broken upstream can make the app do (issue 13: 5, 7, 9, 10, 11), through the
 * whole pair in workerd. The upstream is the raw fault upstream (helpers/fault-upstream.ts),
 * reached through the relay (its key held by the relay) and, for the key the app holds itself,
 * through a real forward proxy (tinyproxy) with a password.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { placeholderPng } from "../../tools/openai-stand-in/png.ts";
import { expectError, fetchBytes, generate } from "../helpers/api.ts";
import { FaultUpstream } from "../helpers/fault-upstream.ts";
import { sseReader } from "../helpers/sse.ts";
import { logsOf, type Stack, startStack } from "../helpers/stack.ts";
import { startTinyproxy, type Tinyproxy } from "../helpers/tinyproxy.ts";

/** Keys of no known shape (not sk-...), so only masking by value can catch them. */
const RELAY_KEY = "provkey-LEAK-relay-7f3a9c2e1b";
const APP_KEY = "provkey-LEAK-app-4d8e2a7c90";
const RELAY_TOKEN = "relay-token-LEAK-5b1e9f";
const PROXY_PASSWORD = "proxyPw-LEAK-31c7";
const SECRETS = [RELAY_KEY, APP_KEY, RELAY_TOKEN, PROXY_PASSWORD, "LEAK"];

/** An https origin (reserved name) that the app's test network serves; see `outbound` below. */
const FILES = "https://files.hostile.example";
/** Stands for the fault upstream's own loopback URL, known only once it has started. */
const FAULT_URL_PLACEHOLDER = "<fault>";
const DOWNLOAD_FAILED = "The image provider's image could not be downloaded. Try again.";

let fault: FaultUpstream;
let proxy: Tinyproxy;
let viaRelay: Stack;
let viaProxy: Stack;
/** Every request that left the app for its outbound network, in order: FILES paths, else the URL. */
const downloads: string[] = [];

/** Over the app's 50 MB download cap, as PNG bytes (so only the cap can refuse it). */
const OVER_CAP = 51 * 1024 * 1024;

/** A PNG header and then zeros, `total` bytes in 1 MiB chunks, with no declared length. */
function pngStream(total: number): ReadableStream<Uint8Array> {
  const head = placeholderPng(1, 1, "file");
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      const size = Math.min(1024 * 1024, total - sent);
      const chunk = new Uint8Array(size);
      if (sent === 0) chunk.set(head.subarray(0, Math.min(head.length, size)));
      sent += size;
      controller.enqueue(chunk);
      if (sent >= total) controller.close();
    },
  });
}

/** The app's outbound network: FILES answers as a hostile file host would; nothing else exists. */
function outbound(request: Request): Response {
  const url = new URL(request.url);
  downloads.push(url.origin === FILES ? url.pathname : url.href);
  if (url.origin !== FILES) return new Response("not on the test network", { status: 502 });
  if (url.pathname === "/ok.png") return new Response(new Uint8Array(placeholderPng(32, 32, "file")), { status: 200 });
  // To a real image: a followed redirect would succeed, so only not following it passes.
  if (url.pathname === "/redir") return new Response(null, { status: 302, headers: { location: `${FILES}/ok.png` } });
  if (url.pathname === "/redir-loopback") {
    return new Response(null, { status: 302, headers: { location: `${fault.url}/x` } });
  }
  if (url.pathname === "/text") return new Response("<html>admin console</html>", { status: 200 });
  if (url.pathname === "/huge") return new Response(pngStream(OVER_CAP), { status: 200 });
  return new Response("missing", { status: 404 });
}

beforeAll(async () => {
  fault = await new FaultUpstream().start();
  proxy = await startTinyproxy({ user: "hostile-user", password: PROXY_PASSWORD, connectPorts: [fault.port] });
  viaRelay = await startStack({
    relayVars: { OPENAI_BASE_URL: fault.url, OPENAI_API_KEY: RELAY_KEY, RELAY_TOKEN },
    appVars: { RELAY_TOKEN, EGRESS_RETRY_BUDGET_MS: "3000" },
    appOutbound: outbound,
  });
  viaProxy = await startStack({
    appVars: { OPENAI_PROXY: proxy.url(), OPENAI_BASE_URL: fault.url, OPENAI_API_KEY: APP_KEY },
  });
});
afterAll(async () => {
  await viaRelay?.stop();
  await viaProxy?.stop();
  await proxy?.stop();
  await fault?.stop();
});
beforeEach(() => {
  fault.reset();
  downloads.length = 0;
});

const noSecretIn = (text: string) => {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
};

describe("5. an upstream error that repeats the Authorization header", () => {
  it.each([
    ["relay", () => viaRelay, RELAY_KEY],
    ["proxy", () => viaProxy, APP_KEY],
  ])("through the %s route: the client's 400 and the log carry no key", async (_name, stack, key) => {
    fault.next({ kind: "echo_auth", status: 400 });
    let body = "";
    const logs = await logsOf(stack(), async () => {
      const err = await expectError(await generate(stack(), { prompt: "a fox" }), 400, "invalid_request");
      body = JSON.stringify(err);
    });
    // The upstream really did repeat the key: the masking is what keeps it out.
    expect(fault.calls[0]?.headers.authorization).toBe(`Bearer ${key}`);
    expect(body).toContain("[redacted]");
    noSecretIn(body);
    noSecretIn(logs);
  });

  it.each([
    ["relay", () => viaRelay],
    ["proxy", () => viaProxy],
  ])("through the %s route: the stream's error event carries no key", async (_name, stack) => {
    fault.next({ kind: "echo_auth", status: 400 });
    const logs = await logsOf(stack(), async () => {
      const res = await generate(stack(), { prompt: "a fox", model: "gpt-image-1", stream: true });
      const events = await sseReader(res).rest();
      const error = events.find((e) => e.event === "error");
      expect(error?.data).toMatchObject({ error: { code: "invalid_request" } });
      noSecretIn(JSON.stringify(events));
    });
    noSecretIn(logs);
  });

  it("the relay masks its own key in what it passes on to its callers", async () => {
    fault.next({ kind: "echo_auth", status: 401 });
    const res = await viaRelay.relay("/v1/images/generations", {
      method: "POST",
      headers: { "content-type": "application/json", "x-relay-token": RELAY_TOKEN },
      body: JSON.stringify({ model: "gpt-image-1", prompt: "a fox" }),
    });
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(JSON.parse(text).error.message).toContain("Bearer [redacted]");
    noSecretIn(text);
  });
});

describe("7. a url answer names where the app downloads from", () => {
  const urlAnswer = (url: string) => ({
    kind: "status" as const,
    status: 200,
    body: { created: 1, data: [{ url }] },
  });

  it("an https public host is downloaded and stored (the only kind allowed)", async () => {
    fault.next(urlAnswer(`${FILES}/ok.png`));
    const res = await generate(viaRelay, { prompt: "a fox", model: "gpt-image-1" });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(downloads).toEqual(["/ok.png"]);
    const { bytes } = await fetchBytes(viaRelay, JSON.parse(text).images[0].url);
    expect(bytes.equals(placeholderPng(32, 32, "file"))).toBe(true);
  });

  const targets = [
    `${FAULT_URL_PLACEHOLDER}/x`,
    "https://127.0.0.1/x",
    "https://[::1]/x",
    "https://[::ffff:10.0.0.1]/x",
    "https://2130706433/x",
    "https://169.254.169.254/latest/meta-data",
    "https://localhost/x",
    "https://files.localhost/x",
    "https://printer/x",
    "https://user:pw@files.hostile.example/ok.png",
    `${FILES}:8443/ok.png`,
    "file:///etc/passwd",
  ];
  it.each(targets)("%s is refused before any request, with the one download error", async (target) => {
    fault.next(urlAnswer(target.replace(FAULT_URL_PLACEHOLDER, fault.url)));
    const err = await expectError(
      await generate(viaRelay, { prompt: "a fox", model: "gpt-image-1" }),
      502,
      "upstream_error",
    );
    expect(err.error.message).toBe(DOWNLOAD_FAILED);
    // Nothing was fetched: only the generation reached the fault upstream, and FILES saw nothing.
    expect(fault.calls).toHaveLength(1);
    expect(downloads).toEqual([]);
  });

  it.each([
    ["a redirect (to an image on the same host)", "/redir"],
    ["a redirect (to loopback)", "/redir-loopback"],
    ["an HTTP error", "/missing"],
    ["an image over the 50 MB cap, streamed without a length", "/huge"],
    ["something that is not an image", "/text"],
  ])("%s: not followed, and the same error as every other failure", async (_name, path) => {
    fault.next(urlAnswer(`${FILES}${path}`));
    const err = await expectError(
      await generate(viaRelay, { prompt: "a fox", model: "gpt-image-1" }),
      502,
      "upstream_error",
    );
    expect(err.error.message).toBe(DOWNLOAD_FAILED);
    expect(downloads).toEqual([path]);
    expect(fault.calls).toHaveLength(1);
  });
});

describe("9. an absurd retry-after", () => {
  it("is capped at an hour for the client, and never waited on inside the call", async () => {
    const limited = {
      error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" },
    };
    fault.next({ kind: "status", status: 429, body: limited, headers: { "retry-after": "99999999999" } });
    const started = Date.now();
    const res = await generate(viaRelay, { prompt: "a fox" });
    const err = await expectError(res, 429, "upstream_rate_limited");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.headers.get("retry-after")).toBe("3600");
    expect(err.error.message).toContain("3600 s");
    expect(fault.calls).toHaveLength(1);
  });

  it("is capped at an hour by the relay too, for its own callers", async () => {
    const limited = { error: { message: "Slow down", type: "requests", param: null, code: "rate_limit_exceeded" } };
    fault.next({
      kind: "status",
      status: 429,
      body: limited,
      headers: { "retry-after": "99999999999", "retry-after-ms": "99999999999999" },
    });
    const res = await viaRelay.relay("/v1/images/generations", {
      method: "POST",
      headers: { "content-type": "application/json", "x-relay-token": RELAY_TOKEN },
      body: JSON.stringify({ model: "gpt-image-1", prompt: "a fox" }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3600");
    expect(res.headers.get("retry-after-ms")).toBe("3600000");
    expect(JSON.parse(await res.text()).error.code).toBe("rate_limit_exceeded");
  });
});

describe("10. conditional requests on an image", () => {
  it("a non-matching If-Match is 412, a matching If-None-Match 304, a matching If-Match 200", async () => {
    const res = await generate(viaRelay, { prompt: "a fox" });
    const { pathname } = new URL(((await res.json()) as { images: Array<{ url: string }> }).images[0]?.url ?? "");
    const first = await viaRelay.app(pathname);
    const etag = first.headers.get("etag") ?? "";
    await first.arrayBuffer();
    expect(etag).toMatch(/^".+"$/);

    const nope = await viaRelay.app(pathname, { headers: { "if-match": '"nope"' } });
    expect(nope.status).toBe(412);
    const current = await viaRelay.app(pathname, { headers: { "if-none-match": etag } });
    expect(current.status).toBe(304);
    const matching = await viaRelay.app(pathname, { headers: { "if-match": etag } });
    expect(matching.status).toBe(200);
    expect((await matching.arrayBuffer()).byteLength).toBeGreaterThan(0);
  });
});

describe("11. streamed previews", () => {
  const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  const png = placeholderPng(32, 32, "final").toString("base64");

  it("an SVG preview (or one whose bytes are not PNG, JPEG or WebP) is dropped, logged once", async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>').toString(
      "base64",
    );
    const disguised = Buffer.from("<svg><script>alert(2)</script></svg>").toString("base64");
    const body =
      event("image_generation.partial_image", { b64_json: svg, partial_image_index: 0, output_format: "svg+xml" }) +
      event("image_generation.partial_image", { b64_json: disguised, partial_image_index: 1, output_format: "png" }) +
      event("image_generation.partial_image", { b64_json: png, partial_image_index: 2, output_format: "svg+xml" }) +
      event("image_generation.completed", { b64_json: png, usage: { total_tokens: 10 } });
    fault.next({ kind: "raw", status: 200, body, headers: { "content-type": "text/event-stream" } });
    let events: Array<{ event: string; data: unknown }> = [];
    const logs = await logsOf(viaRelay, async () => {
      const res = await generate(viaRelay, { prompt: "a fox", model: "gpt-image-1", stream: true });
      events = await sseReader(res).rest();
    });
    const partials = events.filter((e) => e.event === "partial");
    // Only the real PNG is passed on, typed from its bytes, whatever output_format claimed.
    expect(partials).toEqual([
      { event: "partial", id: expect.any(String), data: { index: 2, url: `data:image/png;base64,${png}` } },
    ]);
    expect(JSON.stringify(events)).not.toContain("svg");
    expect(events.at(-1)?.event).toBe("completed");
    expect(logs.match(/preview that is not a PNG, JPEG or WebP/g)).toHaveLength(1);
  });
});
