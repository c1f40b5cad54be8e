/**
 * GET /api/health says only what is true: bad settings are listed by name (503, never a 500),
 * a key that is neither accepted nor rejected is "not confirmed" (200 with a warning), failed
 * checks are cached as well as good ones, and a request that needs a bad setting gets a
 * config_error naming it. Both workers run in workerd; the upstreams are on loopback.
 */
import { describe, expect, it } from "vitest";
import { expectError, generate } from "../helpers/api.ts";
import { compatibleServer } from "../helpers/compatible-server.ts";
import { withStack } from "../helpers/stack.ts";

describe("/api/health with bad settings", () => {
  it("names every bad app setting with 503 (never a 500, never a value); generation is a config_error naming them", () =>
    withStack({ appVars: { RATE_LIMIT_PER_MINUTE: "abc-V4L", STREAM_HEARTBEAT_MS: "soon-V4L" } }, async (stack) => {
      const res = await stack.app("/api/health");
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(503);
      expect(body.status).toBe("misconfigured");
      expect(body.problems.map((p: { setting: string }) => p.setting)).toEqual([
        "RATE_LIMIT_PER_MINUTE",
        "STREAM_HEARTBEAT_MS",
      ]);
      const err = await expectError(await generate(stack, { prompt: "a fox" }), 500, "config_error");
      expect(err.error.message).toMatch(/^The server is misconfigured: RATE_LIMIT_PER_MINUTE .*; STREAM_HEARTBEAT_MS /);
      expect(JSON.stringify(body) + JSON.stringify(err) + stack.logs.join("\n")).not.toContain("V4L");
      expect(stack.standIn.apiCalls).toHaveLength(0);
    }));

  it("a malformed %-escape in an OPENAI_PROXY password is a config_error naming the entry, not a 500 internal_error", () =>
    withStack(
      { appVars: { OPENAI_PROXY: "http://alice:pa%ZZss@127.0.0.1:1, relay:", OPENAI_API_KEY: "sk-app-key" } },
      async (stack) => {
        const err = await expectError(await generate(stack, { prompt: "a fox" }), 500, "config_error");
        expect(err.error.message).toContain(
          "OPENAI_PROXY entry 1 has a user name or password with a malformed %-escape",
        );
        expect(err.error.message).not.toContain("pa%ZZss");
        const health = await stack.app("/api/health");
        expect(health.status).toBe(503);
        expect((await health.json()).problems).toEqual([
          { setting: "OPENAI_PROXY", problem: expect.stringMatching(/^entry 1 /) },
        ]);
      },
    ));

  it("a bad relay setting: the relay's diagnostics and the app's health name it; a generation is a config_error naming it", () =>
    withStack({ relayVars: { RELAY_MAX_BODY_BYTES: "lots-V4L", LOG_ALL_CALLS: "yes" } }, async (stack) => {
      const res = await stack.app("/api/health");
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(503);
      expect(body.status).toBe("relay_misconfigured");
      expect(body.egress.problems.map((p: { setting: string }) => p.setting)).toEqual([
        "RELAY_MAX_BODY_BYTES",
        "LOG_ALL_CALLS",
      ]);
      const err = await expectError(await generate(stack, { prompt: "a fox" }), 500, "config_error");
      expect(err.error.message).toMatch(
        /^The server is misconfigured: the relay's own settings: RELAY_MAX_BODY_BYTES /,
      );
      expect(JSON.stringify(body) + JSON.stringify(err) + stack.logs.join("\n")).not.toContain("V4L");
      expect(stack.standIn.apiCalls.filter((c) => c.method === "POST")).toHaveLength(0);
    }));
});

describe("/api/health key verdicts", () => {
  it("a server without /v1/models (404): 200, key_accepted null and a warning; generation works", async () => {
    const upstream = await compatibleServer(404);
    try {
      await withStack({ relayVars: { OPENAI_BASE_URL: upstream.url } }, async (stack) => {
        const res = await stack.app("/api/health");
        const body = await res.json();
        expect(res.status, JSON.stringify(body)).toBe(200);
        expect(body.status).toBe("ok");
        expect(body.egress).toMatchObject({
          verdict: "ok",
          key_configured: true,
          key_accepted: null,
          models_status: 404,
        });
        expect(body.warnings).toEqual([
          expect.stringContaining("the key was not confirmed: GET /v1/models answered 404"),
        ]);
        const gen = await generate(stack, { prompt: "a fox" });
        expect(gen.status, await gen.clone().text()).toBe(200);
      });
    } finally {
      await upstream.stop();
    }
  });

  it("a 401 is a rejected key: 503 key_rejected", async () => {
    const upstream = await compatibleServer(401);
    try {
      await withStack({ relayVars: { OPENAI_BASE_URL: upstream.url } }, async (stack) => {
        const res = await stack.app("/api/health");
        expect(res.status).toBe(503);
        expect(await res.json()).toMatchObject({ status: "key_rejected", egress: { key_accepted: false } });
      });
    } finally {
      await upstream.stop();
    }
  });

  it("ten health calls with a failing check make one check's upstream calls, not ten", async () => {
    const upstream = await compatibleServer(401);
    try {
      await withStack({ relayVars: { OPENAI_BASE_URL: upstream.url } }, async (stack) => {
        const concurrent = await Promise.all(Array.from({ length: 5 }, () => stack.app("/api/health")));
        const sequential = [];
        for (let i = 0; i < 5; i++) sequential.push(await stack.app("/api/health"));
        for (const res of [...concurrent, ...sequential]) {
          expect(res.status).toBe(503);
          expect((await res.json()).status).toBe("key_rejected");
        }
        // One check: the relay's trace and models probes, on its placed path and its fallback.
        expect(upstream.requests.filter((r) => r === "GET /v1/models")).toHaveLength(2);
        expect(upstream.requests).toHaveLength(4);
      });
    } finally {
      await upstream.stop();
    }
  });
});
