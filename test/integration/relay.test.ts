import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Stack, startStack, TEST_KEY } from "../helpers/stack.ts";

const TOKEN = "relay-token-for-tests";
const GENERATIONS = "/v1/images/generations";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ relayVars: { RELAY_TOKEN: TOKEN } });
});
afterAll(() => stack?.stop());
beforeEach(() => stack.standIn.reset());

const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
  stack.relay(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-relay-token": TOKEN, ...headers },
    body,
  });

describe("relay forwarding", () => {
  it("logs problems with the caller's request id, and successful calls only with LOG_ALL_CALLS=on", async () => {
    const relayLines = (id: string) =>
      stack.logs.filter((l) => l.includes(`"request_id":"${id}"`) && l.includes('"worker":"relay"'));
    const body = JSON.stringify({ model: "gpt-image-1", prompt: "a cat" });
    await (await post(GENERATIONS, body, { "x-request-id": "quiet-success" })).arrayBuffer();
    expect(relayLines("quiet-success")).toEqual([]);

    const refused = JSON.stringify({ model: "gpt-image-1", prompt: "a cat [[moderation]]" });
    expect((await post(GENERATIONS, refused, { "x-request-id": "loud-refusal" })).status).toBe(400);
    const [line] = relayLines("loud-refusal");
    expect(JSON.parse(line ?? "{}")).toMatchObject({ level: "warn", msg: "Upstream answered 400", status: 400 });

    const chatty = await startStack({ relayVars: { RELAY_TOKEN: TOKEN, LOG_ALL_CALLS: "on" } });
    try {
      const res = await chatty.relay(GENERATIONS, {
        method: "POST",
        headers: { "content-type": "application/json", "x-relay-token": TOKEN, "x-request-id": "every-call" },
        body,
      });
      await res.arrayBuffer();
      const logged = chatty.logs.filter((l) => l.includes('"request_id":"every-call"'));
      expect(logged.map((l) => JSON.parse(l).msg)).toEqual(["Forwarded"]);
    } finally {
      await chatty.stop();
    }
  });

  it("passes the body upstream byte for byte, parameters it does not know included", async () => {
    // Odd spacing, key order and unknown fields: a relay that parses and rebuilds would change it.
    const raw =
      '{ "prompt":"a cat",  "model":"gpt-image-1","partial_images":0,\n"background":"transparent","output_format":"webp","x_future_param":{"a":[1,2]} }';
    const res = await post(GENERATIONS, raw);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(stack.standIn.apiCalls[0]?.body.toString()).toBe(raw);
  });

  it("passes multipart edits through untouched", async () => {
    const form = new FormData();
    form.set("model", "gpt-image-1");
    form.set("prompt", "add a hat");
    form.set(
      "image",
      new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 0, 255])], { type: "image/png" }),
      "in.png",
    );
    const req = new Request("http://x/", { method: "POST", body: form });
    const contentType = req.headers.get("content-type") ?? "";
    const bytes = Buffer.from(await req.arrayBuffer());
    const res = await post("/v1/images/edits", bytes, { "content-type": contentType });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const call = stack.standIn.apiCalls[0];
    expect(call?.path).toBe("/v1/images/edits");
    expect(call?.headers["content-type"]).toBe(contentType);
    expect(call?.body.equals(bytes)).toBe(true);
  });

  it("returns status, body and OpenAI's tracing and rate-limit headers, but no cookies or cf-* headers", async () => {
    const res = await post(GENERATIONS, JSON.stringify({ model: "gpt-image-1", prompt: "a cat [[region_block]]" }));
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("unsupported_country_region_territory");
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    expect(res.headers.get("openai-processing-ms")).toBe("42");
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("49");
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(res.headers.get("cf-ray")).toBeNull();
    expect(res.headers.get("strict-transport-security")).toBeNull();
  });

  it("streams a 20 MB answer: the first bytes arrive while the upstream is still sending", async () => {
    const res = await post(GENERATIONS, JSON.stringify({ model: "gpt-image-1", prompt: "big [[big=20]] [[hold]]" }));
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    // The stand-in holds everything past its first 64 KB until release(): getting here proves
    // the relay did not wait for the whole body.
    expect(first.done).toBe(false);
    expect(stack.standIn.apiCalls).toHaveLength(1);
    stack.standIn.release();
    let total = first.value?.byteLength ?? 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
    }
    expect(total).toBeGreaterThan(20 * 1024 * 1024 * 1.33); // base64 of a 20 MB image
  });

  it("streams SSE: partial-image events arrive before the upstream finishes", async () => {
    const res = await post(
      GENERATIONS,
      JSON.stringify({ model: "gpt-image-1", prompt: "sse [[hold]] [[gap=10]]", stream: true, partial_images: 2 }),
    );
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let seen = "";
    while (!seen.includes("\n\n")) {
      const { done, value } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
    }
    // The stand-in is holding the second partial and the completion: only the first is here.
    expect(seen).toContain("event: image_generation.partial_image");
    expect(seen).not.toContain("image_generation.completed");
    stack.standIn.release();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
    }
    expect(seen.match(/event: image_generation.partial_image/g)).toHaveLength(2);
    expect(seen).toContain("event: image_generation.completed");
  });

  it("does not forward query strings", async () => {
    const res = await post(
      `${GENERATIONS}?api-version=1&redirect=http://evil`,
      JSON.stringify({ model: "gpt-image-1", prompt: "a" }),
    );
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(stack.standIn.apiCalls[0]?.path).toBe(GENERATIONS);
  });
});

describe("relay key custody", () => {
  it("uses its own key and drops the caller's Authorization", async () => {
    const res = await post(GENERATIONS, JSON.stringify({ model: "gpt-image-1", prompt: "a" }), {
      authorization: "Bearer sk-callers-own-key",
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(stack.standIn.apiCalls[0]?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
  });

  const callerBilling = { "openai-organization": "org-caller", "openai-project": "proj_caller" };

  it("with its own key, a caller can't choose the organisation or project that key bills", async () => {
    const res = await post(GENERATIONS, JSON.stringify({ model: "gpt-image-1", prompt: "a" }), callerBilling);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const sent = stack.standIn.apiCalls[0]?.headers;
    expect(sent?.["openai-organization"]).toBeUndefined();
    expect(sent?.["openai-project"]).toBeUndefined();
  });

  it("with its own key, bills OPENAI_ORGANIZATION and OPENAI_PROJECT whatever the caller sends", async () => {
    const billed = await startStack({
      relayVars: { RELAY_TOKEN: TOKEN, OPENAI_ORGANIZATION: "org-operator", OPENAI_PROJECT: "proj_operator" },
    });
    try {
      const res = await billed.relay(GENERATIONS, {
        method: "POST",
        headers: { "content-type": "application/json", "x-relay-token": TOKEN, ...callerBilling },
        body: JSON.stringify({ model: "gpt-image-1", prompt: "a" }),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      const sent = billed.standIn.apiCalls[0]?.headers;
      expect(sent?.["openai-organization"]).toBe("org-operator");
      expect(sent?.["openai-project"]).toBe("proj_operator");

      // The diagnostics probe checks the key with the same organisation and project.
      const diag = await billed.relay("/_relay/diagnostics", { headers: { "x-relay-token": TOKEN } });
      expect(diag.status).toBe(200);
      await diag.arrayBuffer();
      const probe = billed.standIn.requests.find((r) => r.path === "/v1/models")?.headers;
      expect(probe?.["openai-organization"]).toBe("org-operator");
      expect(probe?.["openai-project"]).toBe("proj_operator");
    } finally {
      await billed.stop();
    }
  });

  it("without a key of its own, forwards the caller's Authorization, organisation and project", async () => {
    const keyless = await startStack({
      relayVars: { RELAY_TOKEN: TOKEN, OPENAI_API_KEY: "", OPENAI_ORGANIZATION: "org-operator" },
    });
    try {
      const res = await keyless.relay(GENERATIONS, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-relay-token": TOKEN,
          authorization: `Bearer ${TEST_KEY}`,
          ...callerBilling,
        },
        body: JSON.stringify({ model: "gpt-image-1", prompt: "a" }),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      const sent = keyless.standIn.apiCalls[0]?.headers;
      expect(sent?.authorization).toBe(`Bearer ${TEST_KEY}`);
      expect(sent?.["openai-organization"]).toBe("org-caller");
      expect(sent?.["openai-project"]).toBe("proj_caller");
    } finally {
      await keyless.stop();
    }
  });
});

describe("relay access", () => {
  const body = JSON.stringify({ model: "gpt-image-1", prompt: "a" });
  const cases: Array<[string, string, Record<string, string>, number, string]> = [
    ["no token", GENERATIONS, { "x-relay-token": "" }, 401, "relay_token_missing"],
    ["wrong token", GENERATIONS, { "x-relay-token": "nope" }, 403, "relay_token_invalid"],
    ["token with a suffix", GENERATIONS, { "x-relay-token": `${TOKEN}x` }, 403, "relay_token_invalid"],
    ["other API path", "/v1/chat/completions", {}, 404, "not_found"],
    ["prefix of an allowed path", "/v1/images", {}, 404, "not_found"],
    ["allowed path plus a segment", `${GENERATIONS}/x`, {}, 404, "not_found"],
    ["trailing slash", `${GENERATIONS}/`, {}, 404, "not_found"],
  ];

  it.each(cases)("%s -> %i %s, nothing upstream", async (_name, path, headers, status, code) => {
    const res = await post(path, body, headers);
    expect(res.status).toBe(status);
    const json = await res.json();
    expect(json.error.code).toBe(code);
    expect(json.error.type).toBe("relay_error");
    expect(stack.standIn.requests).toHaveLength(0);
  });

  it("GET on a forwarded path is 405 with Allow: POST", async () => {
    const res = await stack.relay(GENERATIONS, { headers: { "x-relay-token": TOKEN } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(stack.standIn.requests).toHaveLength(0);
  });

  it("without RELAY_TOKEN, a caller from the internet is refused", async () => {
    const open = await startStack();
    try {
      const res = await open.relay(GENERATIONS, {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": "198.51.100.9" },
        body,
      });
      expect(res.status).toBe(403);
      expect((await res.json()).error.code).toBe("relay_private");
      expect(open.standIn.requests).toHaveLength(0);
    } finally {
      await open.stop();
    }
  });
});
