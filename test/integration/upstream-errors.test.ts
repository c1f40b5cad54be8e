import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectError, generate } from "../helpers/api.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/** Every upstream failure maps to one stable code and status, and is logged plainly. */
describe("upstream errors through the relay", () => {
  let stack: Stack;
  beforeAll(async () => {
    // A 1 s queue window: a 429 here is one prompt's, not a per-minute limit; the limit the queue
    // learns from it must not hold the next cases for a minute.
    stack = await startStack({ appVars: { UPSTREAM_TIMEOUT_MS: "1500", QUEUE_WINDOW_S: "1" } });
  });
  afterAll(() => stack?.stop());
  beforeEach(() => stack.standIn.reset());

  const cases: Array<[directive: string, status: number, code: string]> = [
    ["region_block", 503, "region_blocked"],
    ["moderation", 400, "content_policy"],
    ["rate_limit", 429, "upstream_rate_limited"],
    ["quota", 502, "upstream_error"],
    ["server_error", 502, "upstream_error"],
    ["org_not_verified", 502, "upstream_auth"],
    ["bad_request", 400, "invalid_request"],
    ["not_json", 502, "upstream_error"],
    ["not_image", 502, "upstream_error"],
    ["reset", 502, "upstream_error"],
    ["slow=4000", 504, "upstream_timeout"],
  ];

  it.each(cases)("[[%s]] -> %i %s, after exactly one upstream call", async (directive, status, code) => {
    const res = await generate(stack, { prompt: `a cat [[${directive}]]` });
    await expectError(res, status, code);
    // A region block is refused before any work, so the relay's one resend from its fallback
    // location can't bill twice; a rate limit gets its turns in the fair queue (3, each after
    // the wait OpenAI asked for: never billed); nothing else is ever sent twice.
    const calls = directive === "region_block" ? 2 : directive === "rate_limit" ? 3 : 1;
    expect(stack.standIn.apiCalls).toHaveLength(calls);
  });

  it("region block: says the egress is in the wrong region, in the log and in plain words", async () => {
    const before = stack.logs.length;
    const err = await expectError(await generate(stack, { prompt: "a cat [[region_block]]" }), 503, "region_blocked");
    expect(err.error.message).toMatch(/region/i);
    const lines = stack.logs.slice(before).join("\n");
    // The route that was refused, and the fix for that route: the relay's placement.
    expect(lines).toMatch(/the relay \(RELAY binding\) leaves from a region OpenAI does not serve/);
    expect(lines).toMatch(/\[placement\] region in workers\/relay\/wrangler\.toml/);
    expect(err.error.message).toContain("The operator must move the relay to a supported region.");
    expect(lines).toContain("unsupported_country_region_territory");
  });

  it("rate limit: Retry-After comes from OpenAI's retry-after-ms", async () => {
    const res = await generate(stack, { prompt: "a cat [[rate_limit]]" });
    expect(res.headers.get("retry-after")).toBe("3"); // ceil(2500 ms)
    await expectError(res, 429, "upstream_rate_limited");
  });

  it("quota exhausted is not presented as retryable", async () => {
    const res = await generate(stack, { prompt: "a cat [[quota]]" });
    expect(res.headers.get("retry-after")).toBeNull();
    const err = await expectError(res, 502, "upstream_error");
    expect(err.error.message).toMatch(/quota/i);
  });

  it("an upstream 400 explains the parameter to the user", async () => {
    const err = await expectError(await generate(stack, { prompt: "a cat [[bad_request]]" }), 400, "invalid_request");
    expect(err.error.param).toBe("quality");
  });
});

describe("a wrong API key", () => {
  let stack: Stack;
  const wrongKey = "sk-proj-WRONGwrong-fake-012";
  beforeAll(async () => {
    stack = await startStack({ relayVars: { OPENAI_API_KEY: wrongKey } });
  });
  afterAll(() => stack?.stop());

  it("is upstream_auth 502, and neither the key nor its masked echo appears anywhere", async () => {
    const res = await generate(stack, { prompt: "a cat" });
    const err = await expectError(res, 502, "upstream_auth");
    const masked = `${wrongKey.slice(0, 6)}***${wrongKey.slice(-4)}`;
    const everything = JSON.stringify(err) + stack.logs.join("\n");
    expect(everything).not.toContain(wrongKey);
    expect(everything).not.toContain(masked);
    expect(everything).not.toContain("WRONG");
  });
});

describe("configuration errors", () => {
  it("an unknown provider is a config_error that names the setting", async () => {
    const stack = await startStack({ appVars: { IMAGE_GENERATION_PROVIDER: "stability" } });
    try {
      const err = await expectError(await generate(stack, { prompt: "a cat" }), 500, "config_error");
      expect(err.error.message).toContain("IMAGE_GENERATION_PROVIDER");
      expect(stack.standIn.apiCalls).toHaveLength(0);
      const health = await stack.app("/api/health");
      expect(health.status).toBe(503);
      expect((await health.json()).status).toBe("misconfigured");
    } finally {
      await stack.stop();
    }
  });

  it("a relay that requires a token the app lacks is a config_error naming RELAY_TOKEN", async () => {
    const stack = await startStack({ relayVars: { RELAY_TOKEN: "relay-secret-value" } });
    try {
      const err = await expectError(await generate(stack, { prompt: "a cat" }), 500, "config_error");
      expect(err.error.message).toContain("RELAY_TOKEN");
      expect(JSON.stringify(err)).not.toContain("relay-secret-value");
      expect(stack.standIn.apiCalls).toHaveLength(0);
    } finally {
      await stack.stop();
    }
  });

  it("with the same RELAY_TOKEN on both workers, generation works and the token stays home", async () => {
    const token = "shared-relay-token-123";
    const stack = await startStack({ appVars: { RELAY_TOKEN: token }, relayVars: { RELAY_TOKEN: token } });
    try {
      const res = await generate(stack, { prompt: "a cat" });
      expect(res.status).toBe(200);
      expect(JSON.stringify(stack.standIn.apiCalls[0]?.headers)).not.toContain(token);
      expect(stack.logs.join("\n")).not.toContain(token);
    } finally {
      await stack.stop();
    }
  });
});
