import { describe, expect, it } from "vitest";
import { expectError, GENERATE, generate } from "../helpers/api.ts";
import { httpText, rawRequest } from "../helpers/raw-http.ts";
import { logsOf, type Stack, startStack } from "../helpers/stack.ts";
import { stackPool } from "../helpers/stack-pool.ts";

/** The stand-in reports 50 input and 1056 output tokens per image; price it at exactly $0.20. */
const PRICE_TABLE = JSON.stringify({
  "gpt-image-1-mini": {
    text_input_per_mtok: 0,
    image_input_per_mtok: 0,
    image_output_per_mtok: 200_000 / 1056,
    per_image: 0.2,
  },
});

/** Held at `per_image` ($0.20): dearer than 1024x1024 low's worst-case tokens at this price. */
const CAT = { prompt: "a cat", size: "1024x1024", quality: "low" };

const secondsToUtcMidnight = () => {
  const next = new Date();
  next.setUTCHours(24, 0, 0, 0);
  return Math.ceil((next.getTime() - Date.now()) / 1000);
};

const pool = stackPool();
const stackWith = pool.start;

const fromIp = (ip: string) => ({ "cf-connecting-ip": ip });

describe("per-client rate limits", () => {
  it("50 parallel calls against a limit of 10 give exactly 10 upstream calls", async () => {
    const stack = await stackWith({ appVars: { RATE_LIMIT_PER_MINUTE: "10", RATE_LIMIT_PER_DAY: "1000" } });
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => generate(stack, { prompt: "a cat" }, fromIp("198.51.100.1"))),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40);
    expect(stack.standIn.apiCalls).toHaveLength(10);
    const refused = answers.find((r) => r.status === 429) as Response;
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    await expectError(refused, 429, "rate_limited");
    await Promise.all(answers.filter((r) => !r.bodyUsed).map((r) => r.arrayBuffer()));

    // Another client has its own count.
    const other = await generate(stack, { prompt: "a cat" }, fromIp("198.51.100.2"));
    expect(other.status).toBe(200);
    await other.arrayBuffer();
  });

  it("the daily limit answers with the seconds left until midnight UTC", async () => {
    const stack = await stackWith({ appVars: { RATE_LIMIT_PER_MINUTE: "0", RATE_LIMIT_PER_DAY: "2" } });
    for (let i = 0; i < 2; i++) {
      const ok = await generate(stack, { prompt: "a cat" }, fromIp("203.0.113.5"));
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    }
    const refused = await generate(stack, { prompt: "a cat" }, fromIp("203.0.113.5"));
    expect(Math.abs(Number(refused.headers.get("retry-after")) - secondsToUtcMidnight())).toBeLessThanOrEqual(5);
    await expectError(refused, 429, "rate_limited");
    expect(stack.standIn.apiCalls).toHaveLength(2);
  });

  it("invalid input does not spend the limit", async () => {
    const stack = await stackWith({ appVars: { RATE_LIMIT_PER_MINUTE: "1" } });
    for (let i = 0; i < 5; i++)
      await expectError(await generate(stack, { prompt: "" }, fromIp("192.0.2.9")), 400, "invalid_request");
    const ok = await generate(stack, { prompt: "a cat" }, fromIp("192.0.2.9"));
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
  });
});

describe("client addresses", () => {
  const limited = { RATE_LIMIT_PER_MINUTE: "0", RATE_LIMIT_PER_DAY: "2" };
  const statusFrom = async (stack: Stack, ip: string) => {
    const res = await generate(stack, { prompt: "a cat" }, fromIp(ip));
    await res.arrayBuffer();
    return res.status;
  };

  it("an IPv6 client is its /64: other addresses and spellings in it share one limit", async () => {
    const stack = await stackWith({ appVars: limited });
    expect(await statusFrom(stack, "2001:db8:0:1::1")).toBe(200);
    expect(await statusFrom(stack, "2001:DB8:0000:0001:0:0:0:1")).toBe(200);
    for (const ip of ["2001:db8:0:1::2", "2001:db8:0:1::3", "2001:db8:0:1::6", "2001:db8:0:1:ffff:1:2:3"]) {
      expect(await statusFrom(stack, ip), ip).toBe(429);
    }
    // The next /64 is another client.
    expect(await statusFrom(stack, "2001:db8:0:2::1")).toBe(200);
    expect(stack.standIn.apiCalls).toHaveLength(3);
  });

  it("an IPv4-mapped IPv6 address is the same client as the IPv4 address", async () => {
    const stack = await stackWith({ appVars: limited });
    expect(await statusFrom(stack, "::ffff:198.51.100.7")).toBe(200);
    expect(await statusFrom(stack, "198.51.100.7")).toBe(200);
    expect(await statusFrom(stack, "::FFFF:c633:6407")).toBe(429);
    expect(await statusFrom(stack, "198.51.100.8")).toBe(200);
  });

  it("callers without a usable address share one limit, and the log says so once", async () => {
    const stack = await stackWith({ appVars: limited });
    // Straight to the app's socket: nothing in front sets CF-Connecting-IP, as for a caller that
    // bypasses Cloudflare's edge.
    const direct = async (headers: Record<string, string>) => {
      const body = JSON.stringify({ prompt: "a cat" });
      return (
        await rawRequest(
          stack.appUrl,
          httpText("POST", GENERATE, { "Content-Type": "application/json", ...headers }, body),
        )
      ).status;
    };
    const log = await logsOf(stack, async () => {
      expect(await direct({})).toBe(200);
      expect(await direct({ "CF-Connecting-IP": "not-an-address" })).toBe(200);
      expect(await direct({ "CF-Connecting-IP": "203.0.113.999" })).toBe(429);
    });
    expect(log.match(/without a client address/g)).toHaveLength(1);
    expect(stack.standIn.apiCalls).toHaveLength(2);
  });
});

describe("daily budget", () => {
  it("charges OpenAI's usage and refuses new generations past the budget until the next UTC day", async () => {
    const stack = await stackWith({ appVars: { DAILY_BUDGET_USD: "0.4", PRICE_TABLE } });
    // $0.20 each: 0.2, 0.4, then the day's spending has reached the budget.
    for (let i = 0; i < 2; i++) {
      const ok = await generate(stack, CAT);
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    }
    const refused = await generate(stack, CAT);
    expect(Math.abs(Number(refused.headers.get("retry-after")) - secondsToUtcMidnight())).toBeLessThanOrEqual(5);
    await expectError(refused, 429, "budget_exhausted");
    expect(stack.standIn.apiCalls).toHaveLength(2);
    expect(stack.logs.join("\n")).toMatch(/"spent_usd":0\.4\b/);
  });

  it("holds the budget against parallel calls: 20 at once with room for 5 make 5 upstream calls", async () => {
    const stack = await stackWith({ appVars: { DAILY_BUDGET_USD: "1", PRICE_TABLE } });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => generate(stack, { ...CAT, prompt: `cat ${i}` })),
    );
    expect(answers.filter((r) => r.status === 200)).toHaveLength(5);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(15);
    expect(stack.standIn.apiCalls).toHaveLength(5);
    await Promise.all(answers.filter((r) => !r.bodyUsed).map((r) => r.arrayBuffer()));
  });

  it("a failed generation gives its hold back", async () => {
    const stack = await stackWith({ appVars: { DAILY_BUDGET_USD: "0.2", PRICE_TABLE } });
    await expectError(await generate(stack, { ...CAT, prompt: "a cat [[server_error]]" }), 502, "upstream_error");
    const ok = await generate(stack, CAT);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
  });

  it("survives a restart: the day's spending and the rate counts are kept", async () => {
    const dir = pool.stateDir("guard-state-");
    const vars = { DAILY_BUDGET_USD: "0.4", PRICE_TABLE, RATE_LIMIT_PER_DAY: "3", RATE_LIMIT_PER_MINUTE: "0" };
    const first = await startStack({ appVars: vars, persistDir: dir });
    for (let i = 0; i < 2; i++) {
      const ok = await generate(first, CAT, fromIp("192.0.2.1"));
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    }
    await first.stop();

    const second = await stackWith({ appVars: vars, persistDir: dir });
    await expectError(await generate(second, CAT, fromIp("192.0.2.2")), 429, "budget_exhausted");
    expect(second.standIn.apiCalls).toHaveLength(0);
  });
});
