import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectError, fetchBytes, GENERATE, generate } from "../helpers/api.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ standInFiles: true });
});
afterAll(() => stack?.stop());
beforeEach(() => stack.standIn.reset());

interface GenerateAnswer {
  id: string;
  created: number;
  model: string;
  images: Array<{ url: string; revised_prompt?: string }>;
  usage?: { total_tokens: number };
}

async function ok(res: Response): Promise<GenerateAnswer> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as GenerateAnswer;
}

describe("POST /api/generate/image", () => {
  it("stores a b64 answer and serves exactly the upstream's bytes from the app's origin", async () => {
    const answer = await ok(await generate(stack, { prompt: "a red fox", model: "gpt-image-1", size: "1024x1536" }));
    expect(answer.model).toBe("gpt-image-1");
    expect(answer.id).toMatch(/^gen_[0-9a-f]{32}$/);
    expect(answer.usage?.total_tokens).toBeGreaterThan(0);
    expect(answer.images).toHaveLength(1);
    const url = new URL(answer.images[0]?.url ?? "");
    expect(url.origin).toBe("http://localhost");
    expect(url.pathname).toMatch(/^\/api\/images\/[0-9a-f]{32}\.png$/);

    const { res, bytes } = await fetchBytes(stack, url.href);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("etag")).toMatch(/^".+"$/);
    expect(bytes.equals(stack.standIn.sentImages[0] as Buffer)).toBe(true);
  });

  it("says which egress route served the call", async () => {
    const res = await generate(stack, { prompt: "a red fox" });
    expect(res.headers.get("x-egress-route")).toBe("relay-binding");
    await res.arrayBuffer();
  });

  it("downloads and stores url answers, so the user never loads the provider's host", async () => {
    const answer = await ok(await generate(stack, { prompt: "a lighthouse [[url]]", model: "gpt-image-1" }));
    const url = answer.images[0]?.url ?? "";
    expect(url).not.toContain(stack.standIn.url);
    expect(new URL(url).origin).toBe("http://localhost");
    const downloads = stack.standIn.requests.filter((r) => r.path.startsWith("/files/"));
    expect(downloads).toHaveLength(1);
    const { bytes } = await fetchBytes(stack, url);
    expect(bytes.equals(stack.standIn.sentImages[0] as Buffer)).toBe(true);
  });

  it("stores every image of n > 1 under its own unguessable name", async () => {
    const answer = await ok(await generate(stack, { prompt: "three pears", n: 3 }));
    expect(answer.images).toHaveLength(3);
    expect(new Set(answer.images.map((i) => i.url)).size).toBe(3);
    for (const [i, image] of answer.images.entries()) {
      const { bytes } = await fetchBytes(stack, image.url);
      expect(bytes.equals(stack.standIn.sentImages[i] as Buffer)).toBe(true);
    }
  });

  it("uses DEFAULT_MODEL when no model is given and always names the model upstream", async () => {
    const answer = await ok(await generate(stack, { prompt: "a boat" }));
    expect(answer.model).toBe("gpt-image-1-mini");
    const sent = JSON.parse(stack.standIn.apiCalls[0]?.body.toString() ?? "{}");
    expect(sent.model).toBe("gpt-image-1-mini");
  });

  it("sends the validated parameters upstream unchanged", async () => {
    const body = {
      prompt: "  a glass teapot  ",
      model: "gpt-image-2",
      size: "2048x1152",
      quality: "high",
      n: 1,
      output_format: "webp",
      output_compression: 80,
      background: "transparent",
      moderation: "low",
      user: "user-42",
    };
    await ok(await generate(stack, body));
    const sent = JSON.parse(stack.standIn.apiCalls[0]?.body.toString() ?? "{}");
    expect(sent).toEqual({ ...body, prompt: "a glass teapot" });
  });

  it("keeps the caller's request id end to end and makes one when there is none", async () => {
    const res = await generate(stack, { prompt: "a kite" }, { "x-request-id": "client-id-123" });
    await ok(res);
    expect(res.headers.get("x-request-id")).toBe("client-id-123");
    expect(stack.standIn.apiCalls[0]?.headers["x-client-request-id"]).toBe("client-id-123");
    // The relay logs a successful call only with LOG_ALL_CALLS=on (relay.test.ts); the app always.
    const tagged = stack.logs.filter((l) => l.includes('"request_id":"client-id-123"'));
    expect(tagged.some((l) => l.includes('"worker":"app"'))).toBe(true);

    const fresh = await generate(stack, { prompt: "a kite" }, { "x-request-id": "bad id\twith spaces" });
    await ok(fresh);
    expect(fresh.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it("logs the model and the completion, and no prompt, key or base64 unless asked", async () => {
    const before = stack.logs.length;
    await ok(await generate(stack, { prompt: "secret birthday surprise", model: "gpt-image-1.5" }));
    const lines = stack.logs.slice(before);
    const msgs = lines.map((l) => JSON.parse(l).msg);
    expect(msgs).toContain("Using OpenAI gpt-image-1.5 for image generation");
    expect(msgs).toContain("Image generation completed successfully");
    // The route is named on the completion line; a call the first route served at once needs no
    // egress line of its own (failovers and retries get one: egress-*.test.ts).
    const completed = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "Image generation completed successfully");
    expect(completed).toMatchObject({ route: "relay-binding", model: "gpt-image-1.5", images: 1 });
    expect(msgs.filter((m) => m.includes("Egress route"))).toEqual([]);
    const all = lines.join("\n");
    expect(all).not.toContain("secret birthday surprise");
    expect(all).not.toContain("sk-test");
    expect(all).not.toContain("iVBORw0KGgo"); // base64 of a PNG header
  });

  it("never passes the end user's identity to OpenAI", async () => {
    const identity = {
      "cf-connecting-ip": "203.0.113.7",
      "cf-connecting-ipv6": "2001:db8::7",
      "cf-pseudo-ipv4": "240.0.0.7",
      "true-client-ip": "203.0.113.7",
      "x-forwarded-for": "203.0.113.7",
      "x-real-ip": "203.0.113.7",
      forwarded: "for=203.0.113.7",
      "cf-ipcountry": "RU",
      "cf-ray": "8a1b2c3d4e5f-DME",
      "cf-visitor": '{"scheme":"https"}',
      cookie: "session=abc",
      "user-agent": "Mozilla/5.0 (end user's phone)",
      "accept-language": "ru-RU",
      referer: "https://shop.example.ru/page",
    };
    await ok(await generate(stack, { prompt: "a samovar" }, identity));
    const call = stack.standIn.apiCalls[0];
    expect(call).toBeDefined();
    const sent = JSON.stringify(call?.headers);
    for (const [name, value] of Object.entries(identity)) {
      // The relay sends a user-agent of its own; everything else must be absent.
      if (name !== "user-agent") expect(call?.headers[name], name).toBeUndefined();
      expect(sent).not.toContain(value);
    }
    expect(call?.headers["x-relay-token"]).toBeUndefined();
  });
});

describe("invalid input never reaches the upstream", () => {
  const cases: Array<[string, unknown, string?]> = [
    ["missing prompt", {}, "prompt"],
    ["empty prompt", { prompt: "" }, "prompt"],
    ["blank prompt", { prompt: "   \n " }, "prompt"],
    ["prompt too long", { prompt: "x".repeat(32_001) }, "prompt"],
    ["prompt not a string", { prompt: 42 }, "prompt"],
    ["unknown field", { prompt: "a cat", response_format: "url" }, "response_format"],
    ["partial_images without stream", { prompt: "a cat", partial_images: 2 }, "partial_images"],
    ["model not allowed", { prompt: "a cat", model: "dall-e-3" }, "model"],
    ["size for the model", { prompt: "a cat", model: "gpt-image-1", size: "1792x1024" }, "size"],
    ["gpt-image-2 size rule", { prompt: "a cat", model: "gpt-image-2", size: "1000x1000" }, "size"],
    ["quality for the model", { prompt: "a cat", quality: "hd" }, "quality"],
    ["n too large", { prompt: "a cat", n: 11 }, "n"],
    ["n not an integer", { prompt: "a cat", n: 1.5 }, "n"],
    ["compression without jpeg/webp", { prompt: "a cat", output_compression: 50 }, "output_compression"],
    ["bad background", { prompt: "a cat", background: "green" }, "background"],
    ["body is an array", [{ prompt: "a cat" }]],
    ["body is a string", '"a cat"'],
    ["body is null", "null"],
    ["malformed JSON", '{"prompt": "a cat"'],
  ];

  it.each(cases)("%s -> 400 invalid_request", async (_name, body, param) => {
    const res = await generate(stack, body);
    const err = await expectError(res, 400, "invalid_request");
    if (param) expect(err.error.param).toBe(param);
    expect(stack.standIn.apiCalls).toHaveLength(0);
  });

  it("unknown fields are named in the message", async () => {
    const err = await expectError(await generate(stack, { prompt: "a", colour: "red" }), 400, "invalid_request");
    expect(err.error.message).toContain('"colour"');
  });

  it("415 for a body that is not declared as JSON", async () => {
    const res = await stack.app(GENERATE, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ prompt: "a cat" }),
    });
    await expectError(res, 415, "unsupported_media_type");
    const none = await stack.app(GENERATE, { method: "POST", body: JSON.stringify({ prompt: "a cat" }) });
    await expectError(none, 415, "unsupported_media_type");
    expect(stack.standIn.apiCalls).toHaveLength(0);
  });

  it("413 for a body over 64 KB, announced or streamed", async () => {
    const big = JSON.stringify({ prompt: "a".repeat(70 * 1024) });
    await expectError(await generate(stack, big), 413, "payload_too_large");

    const chunk = new TextEncoder().encode(big);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await stack.app(GENERATE, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    await expectError(res, 413, "payload_too_large");
    expect(stack.standIn.apiCalls).toHaveLength(0);
  });
});

describe("routing", () => {
  it("404 in the envelope for unknown paths", async () => {
    await expectError(await stack.app("/nope"), 404, "not_found");
    await expectError(await stack.app("/api/generate"), 404, "not_found");
  });

  it("405 with Allow for a wrong method on a known path", async () => {
    const res = await stack.app(GENERATE);
    expect(res.headers.get("allow")).toContain("POST");
    await expectError(res, 405, "method_not_allowed");
    const put = await stack.app("/api/health", { method: "PUT" });
    await expectError(put, 405, "method_not_allowed");
  });
});

describe("GET /api/images/:name", () => {
  it("404 for names that do not exist or are not ours", async () => {
    await expectError(await stack.app(`/api/images/${"0".repeat(32)}.png`), 404, "not_found");
    await expectError(await stack.app("/api/images/..%2Fwrangler.toml"), 404, "not_found");
    await expectError(await stack.app("/api/images/abc.png"), 404, "not_found");
  });

  it("answers a conditional request with 304 and HEAD without a body", async () => {
    const answer = await ok(await generate(stack, { prompt: "a moon" }));
    const path = new URL(answer.images[0]?.url ?? "").pathname;
    const first = await stack.app(path);
    await first.arrayBuffer();
    const etag = first.headers.get("etag") ?? "";
    const again = await stack.app(path, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    const head = await stack.app(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(first.headers.get("content-length"));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });
});

describe("GET /api/health", () => {
  it("reports settings as presence only and the egress as reachable", async () => {
    const res = await stack.app("/api/health");
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body.status).toBe("ok");
    expect(body.settings.RELAY).toBe(true);
    expect(body.settings.RELAY_TOKEN).toBe(false);
    expect(body.egress.reachable).toBe(true);
    expect(body.egress.key_configured).toBe(true);
    expect(JSON.stringify(body)).not.toContain("gpt-image");
  });
});
