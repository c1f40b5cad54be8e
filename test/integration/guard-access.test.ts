import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectError, generate } from "../helpers/api.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/** As the app stores tokens (guard/tokens.ts): `token:` + SHA-256 hex of the token. */
const TOKEN_KEY_PREFIX = "token:";
const hashToken = async (token: string) => createHash("sha256").update(token).digest("hex");

describe("ACCESS_MODE=tokens", () => {
  let stack: Stack;
  const token = "img_live_0123456789abcdefghijklmnopqrstuvwxyz";
  beforeAll(async () => {
    stack = await startStack({ appVars: { ACCESS_MODE: "tokens" } });
    const kv = await stack.mf.getKVNamespace("API_TOKENS");
    await kv.put(TOKEN_KEY_PREFIX + (await hashToken(token)), JSON.stringify({ name: "shop", created: "2026-11-26" }));
  });
  afterAll(() => stack?.stop());
  beforeEach(() => stack.standIn.reset());

  it("refuses a call without a token, before reading the body", async () => {
    const res = await generate(stack, { prompt: "a cat" });
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    await expectError(res, 401, "unauthorized");
    expect(stack.standIn.apiCalls).toHaveLength(0);
  });

  it("refuses an unknown token", async () => {
    await expectError(
      await generate(stack, { prompt: "a cat" }, { authorization: "Bearer nope" }),
      401,
      "unauthorized",
    );
    expect(stack.standIn.apiCalls).toHaveLength(0);
  });

  it("serves a known token, and never logs it", async () => {
    const res = await generate(stack, { prompt: "a cat" }, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(stack.logs.join("\n")).not.toContain(token);
    expect(stack.logs.join("\n")).toContain('"token_name":"shop"');
  });

  it("reading a generation back needs a valid token too (any token: the id is the capability)", async () => {
    const answer = (await (
      await generate(stack, { prompt: "a cat" }, { authorization: `Bearer ${token}` })
    ).json()) as { id: string };
    const path = `/api/generations/${answer.id}`;
    await expectError(await stack.app(path), 401, "unauthorized");
    await expectError(await stack.app(`${path}/events`), 401, "unauthorized");
    const view = await stack.app(path, { headers: { authorization: `Bearer ${token}` } });
    expect(view.status).toBe(200);
    expect(((await view.json()) as { status: string }).status).toBe("succeeded");
  });

  it("stores only hashes: the KV holds no token text", async () => {
    const kv = await stack.mf.getKVNamespace("API_TOKENS");
    const { keys } = await kv.list();
    expect(keys.map((k) => k.name).join(",")).not.toContain(token);
  });

  it("a revoked token stops working", async () => {
    const kv = await stack.mf.getKVNamespace("API_TOKENS");
    const other = "img_live_to_be_revoked_000000000000000000";
    const key = TOKEN_KEY_PREFIX + (await hashToken(other));
    await kv.put(key, JSON.stringify({ name: "temp", created: "2026-11-26" }));
    const ok = await generate(stack, { prompt: "a" }, { authorization: `Bearer ${other}` });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    await kv.delete(key);
    await expectError(
      await generate(stack, { prompt: "a" }, { authorization: `Bearer ${other}` }),
      401,
      "unauthorized",
    );
  });
});

describe("CORS", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ appVars: { ALLOWED_ORIGINS: "https://shop.example, https://app.example/" } });
  });
  afterAll(() => stack?.stop());
  beforeEach(() => stack.standIn.reset());

  const preflight = (origin: string) =>
    stack.app("/api/generate/image", {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });

  it("answers a preflight from an allowed origin, echoing it (no wildcard, no credentials)", async () => {
    const res = await preflight("https://shop.example");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect((await preflight("https://app.example")).headers.get("access-control-allow-origin")).toBe(
      "https://app.example",
    );
  });

  it("refuses another origin's preflight and calls, with nothing sent upstream", async () => {
    await expectError(await preflight("https://evil.example"), 403, "origin_not_allowed");
    const res = await generate(stack, { prompt: "a cat" }, { origin: "https://evil.example" });
    await expectError(res, 403, "origin_not_allowed");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(stack.standIn.apiCalls).toHaveLength(0);
  });

  it("the app's own page always works", async () => {
    const res = await generate(stack, { prompt: "a cat" }, { origin: "http://localhost" });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost");
    await res.arrayBuffer();
  });

  it("an allowed origin gets the answer and the exposed request id", async () => {
    const res = await generate(stack, { prompt: "a cat" }, { origin: "https://shop.example" });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(res.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
    await res.arrayBuffer();
  });

  it("another site's page can use the durable API: Prefer and Last-Event-ID allowed, the id and Location readable", async () => {
    const pre = await stack.app("/api/generate/image", {
      method: "OPTIONS",
      headers: {
        origin: "https://shop.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, prefer, idempotency-key",
      },
    });
    expect(pre.status).toBe(204);
    const allowed = (pre.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const header of ["prefer", "last-event-id", "idempotency-key"]) expect(allowed).toContain(header);
    expect(pre.headers.get("access-control-allow-methods")).toContain("DELETE");

    const res = await generate(stack, { prompt: "a cat" }, { origin: "https://shop.example", prefer: "respond-async" });
    expect(res.status).toBe(202);
    const exposed = (res.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    for (const header of ["x-generation-id", "location", "retry-after"]) expect(exposed).toContain(header);
    await res.arrayBuffer();
  });
});
