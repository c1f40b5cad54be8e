import { describe, expect, it } from "vitest";
import { generate } from "../helpers/api.ts";
import { type Stack, withStack } from "../helpers/stack.ts";

const TOKEN = "region-test-token";
const GEN = "/v1/images/generations";

const call = (stack: Stack, prompt: string) =>
  stack.relay(GEN, {
    method: "POST",
    headers: { "content-type": "application/json", "x-relay-token": TOKEN },
    body: JSON.stringify({ model: "gpt-image-1", prompt }),
  });

describe("region fallback", () => {
  it("resends a region-blocked call once through the US Durable Object, and says so", () =>
    withStack({ relayVars: { RELAY_TOKEN: TOKEN } }, async (stack) => {
      const res = await call(stack, "a fox [[region_block_once]]");
      expect(res.status).toBe(200);
      expect(res.headers.get("x-relay-egress")).toBe("fallback-wnam");
      expect((await res.json()).data[0].b64_json).toBeTruthy();
      const calls = stack.standIn.apiCalls;
      expect(calls).toHaveLength(2);
      // The same bytes both times: the kept body is the caller's body.
      expect(calls[1]?.body.equals(calls[0]?.body as Buffer)).toBe(true);
      const lines = stack.logs.join("\n");
      expect(lines).toContain("unsupported_country_region_territory");
      expect(lines).toContain("Fallback egress answered");
    }));

  it("a call served by the placed egress says so", () =>
    withStack({ relayVars: { RELAY_TOKEN: TOKEN } }, async (stack) => {
      const res = await call(stack, "a fox");
      expect(res.headers.get("x-relay-egress")).toBe("placed");
      await res.arrayBuffer();
    }));

  it("REGION_FALLBACK=off: the 403 goes back as it came, after one call", () =>
    withStack({ relayVars: { RELAY_TOKEN: TOKEN, REGION_FALLBACK: "off" } }, async (stack) => {
      const res = await call(stack, "a fox [[region_block_once]]");
      expect(res.status).toBe(403);
      expect(res.headers.get("x-relay-egress")).toBe("placed");
      expect((await res.json()).error.code).toBe("unsupported_country_region_territory");
      expect(stack.standIn.apiCalls).toHaveLength(1);
    }));

  it("through the app, a block that the fallback fixes is a normal success", () =>
    withStack({}, async (stack) => {
      const res = await generate(stack, { prompt: "a fox [[region_block_once]]" });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }));
});

describe("GET /_relay/diagnostics", () => {
  const diagnose = (stack: Stack, token = TOKEN) =>
    stack.relay("/_relay/diagnostics", { headers: { "x-relay-token": token } });

  it("ok: egress location as OpenAI's edge sees it, key configured and accepted", () =>
    withStack({ relayVars: { RELAY_TOKEN: TOKEN } }, async (stack) => {
      const res = await diagnose(stack);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.verdict).toBe("ok");
      expect(body.key_configured).toBe(true);
      expect(body.placed).toMatchObject({ egress_location: "US", upstream_answered: true, key_accepted: true });
      expect(body.fallback).toMatchObject({ location: "wnam", verdict: "ok" });
      expect(JSON.stringify(body)).not.toContain("sk-test");
    }));

  it("region_blocked when OpenAI refuses the egress", () =>
    withStack({ relayVars: { RELAY_TOKEN: TOKEN }, standIn: { country: "RU" } }, async (stack) => {
      const body = await (await diagnose(stack)).json();
      expect(body.verdict).toBe("region_blocked");
      expect(body.placed.egress_location).toBe("RU");
    }));

  it("unreachable (still 200) when the upstream does not answer", () =>
    withStack({ relayVars: { RELAY_TOKEN: TOKEN, OPENAI_BASE_URL: "http://127.0.0.1:9" } }, async (stack) => {
      const res = await diagnose(stack);
      expect(res.status).toBe(200);
      expect((await res.json()).verdict).toBe("unreachable");
    }));

  it("reports a rejected key without showing it", () =>
    withStack({ relayVars: { RELAY_TOKEN: TOKEN, OPENAI_API_KEY: "sk-wrong-key-000000000000" } }, async (stack) => {
      const body = await (await diagnose(stack)).json();
      expect(body.placed.key_accepted).toBe(false);
      expect(JSON.stringify(body)).not.toContain("sk-wrong");
    }));

  it("needs the token", () =>
    withStack({ relayVars: { RELAY_TOKEN: TOKEN } }, async (stack) => {
      expect((await diagnose(stack, "nope")).status).toBe(403);
      expect(stack.standIn.requests).toHaveLength(0);
    }));

  it("the app's health carries the relay's verdict", () =>
    withStack({ standIn: { country: "RU" } }, async (stack) => {
      const res = await stack.app("/api/health");
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.status).toBe("region_blocked");
      expect(body.egress.verdict).toBe("region_blocked");
    }));
});

describe("long calls", () => {
  it("when the app gives up on a call, the relay's upstream call is cancelled too", () =>
    withStack({ appVars: { UPSTREAM_TIMEOUT_MS: "1000" } }, async (stack) => {
      const res = await generate(stack, { prompt: "slow [[slow=20000]]" });
      expect(res.status).toBe(504);
      await res.arrayBuffer();
      for (let i = 0; i < 150 && stack.standIn.closedEarly === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(stack.standIn.closedEarly).toBe(1);
    }));
});
