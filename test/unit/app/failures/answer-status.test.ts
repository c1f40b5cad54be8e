import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import type { ApiError } from "../../../../workers/app/src/errors";
import { retryAfterSeconds, upstreamFailure } from "../../../../workers/app/src/failures/answer-status";
import { createLogger } from "../../../../workers/shared/log";

const log = createLogger("app", { request_id: "req_test" });
const MASKED_KEY = "sk-abc***wxyz";

let spies: MockInstance[] = [];
beforeEach(() => {
  spies = (["log", "warn", "error"] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => {}));
});
afterEach(() => vi.restoreAllMocks());

/** Every line logged during the test, parsed. */
const logged = () =>
  spies.flatMap((spy) => spy.mock.calls.map((call) => JSON.parse(String(call[0])) as Record<string, unknown>));

function openAIError(
  status: number,
  error: { message?: string; type?: string; param?: string | null; code?: string | null },
  headers: Record<string, string> = {},
): Response {
  return Response.json({ error: { param: null, code: null, ...error } }, { status, headers });
}

const fail = (res: Response): Promise<ApiError> => upstreamFailure(res, log);

describe("upstreamFailure: region block", () => {
  const regionBlock = () =>
    openAIError(403, {
      message: "Country, region, or territory not supported",
      type: "request_forbidden",
      code: "unsupported_country_region_territory",
    });

  it("becomes region_blocked (503)", async () => {
    const err = await fail(regionBlock());
    expect(err.code).toBe("region_blocked");
    expect(err.status).toBe(503);
  });

  it("logs an error that points at the egress region and the relay's placement", async () => {
    await fail(regionBlock());
    const lines = logged().filter((l) => l.level === "error");
    expect(lines).toHaveLength(1);
    expect(lines[0]?.msg).toContain("egress region");
    expect(lines[0]?.msg).toContain("placement");
    expect(lines[0]).toMatchObject({ status: 403, upstream_code: "unsupported_country_region_territory" });
  });

  const blockedOn = (route: string) =>
    openAIError(
      403,
      { message: "Country, region, or territory not supported", code: "unsupported_country_region_territory" },
      { "x-egress-route": route },
    );

  it.each([
    [
      "relay-binding",
      /the relay \(RELAY binding\) leaves from .*\[placement\] region in workers\/relay\/wrangler\.toml/,
      /move the relay/,
    ],
    [
      "relay-url:relay.example.com",
      /the relay at relay\.example\.com leaves from .*that relay's \[placement\] region/,
      /move the relay/,
    ],
    [
      "proxy:10.0.0.1:3128",
      /the forward proxy 10\.0\.0\.1:3128 exits in a region .*choose a proxy exit in a region OpenAI serves/,
      /use a proxy exit in a supported region/,
    ],
  ])(
    "names the refused route %s and the fix for that route, in the log and to the user",
    async (route, operator, user) => {
      const err = await fail(blockedOn(route));
      expect(err.message).toMatch(user);
      const line = logged().find((l) => l.level === "error");
      expect(line?.msg).toMatch(operator);
      if (route.startsWith("proxy:")) {
        expect(line?.msg).not.toContain("placement");
        expect(err.message).not.toContain("relay");
      }
    },
  );
});

describe("upstreamFailure: 400", () => {
  it.each([
    ["moderation_blocked", "image_generation_user_error"],
    ["content_policy_violation", "invalid_request_error"],
  ])("%s becomes content_policy", async (code, type) => {
    const err = await fail(
      openAIError(400, { message: "Your request was rejected by the safety system.", type, code }),
    );
    expect(err.code).toBe("content_policy");
    expect(err.status).toBe(400);
  });

  it("another 400 becomes invalid_request with OpenAI's message and param", async () => {
    const message = "Invalid value: '999x999'. Supported values are: '1024x1024'.";
    const err = await fail(
      openAIError(400, { message, type: "invalid_request_error", param: "size", code: "invalid_value" }),
    );
    expect(err.code).toBe("invalid_request");
    expect(err.message).toBe(message);
    expect(err.param).toBe("size");
  });

  it("a 400 without param has none", async () => {
    const err = await fail(openAIError(400, { message: "Bad.", type: "invalid_request_error" }));
    expect(err.param).toBeUndefined();
  });

  it("a 400 message that quotes a key is redacted", async () => {
    const err = await fail(openAIError(400, { message: `Key ${MASKED_KEY} cannot use this model.` }));
    expect(err.message).not.toContain("abc");
    expect(err.message).not.toContain("wxyz");
  });

  it("a 400 with an oversized body gets a generic message", async () => {
    const huge = JSON.stringify({ error: { message: "x".repeat(70 * 1024), param: "prompt" } });
    const err = await fail(new Response(huge, { status: 400 }));
    expect(err.code).toBe("invalid_request");
    expect(err.message.length).toBeLessThan(200);
    expect(err.param).toBeUndefined();
  });
});

describe("upstreamFailure: credentials", () => {
  it("401 becomes upstream_auth without the masked key, in the answer or the log", async () => {
    const err = await fail(
      openAIError(401, {
        message: `Incorrect API key provided: ${MASKED_KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: "invalid_request_error",
        code: "invalid_api_key",
      }),
    );
    expect(err.code).toBe("upstream_auth");
    expect(err.status).toBe(502);
    expect(err.message).not.toContain("sk-");
    const text = JSON.stringify(logged());
    expect(text).not.toContain("abc");
    expect(text).not.toContain("wxyz");
    expect(text).not.toContain(MASKED_KEY);
    expect(text).toContain("invalid_api_key");
  });

  it("a 403 that is not a region block becomes upstream_auth", async () => {
    const err = await fail(
      openAIError(403, { message: "You are not allowed to use this model.", type: "invalid_request_error" }),
    );
    expect(err.code).toBe("upstream_auth");
  });
});

describe("upstreamFailure: 429", () => {
  const rateLimit = (headers: Record<string, string>) =>
    openAIError(
      429,
      { message: "Rate limit reached for gpt-image-1.", type: "requests", code: "rate_limit_exceeded" },
      headers,
    );

  it.each([
    [{ "retry-after-ms": "1500" }, "2"],
    [{ "retry-after-ms": "200" }, "1"],
    [{ "retry-after": "7" }, "7"],
    [{ "retry-after-ms": "3000", "retry-after": "60" }, "3"],
    [{}, "20"],
  ])("a rate limit with %j becomes upstream_rate_limited, Retry-After %s", async (headers, expected) => {
    const err = await fail(rateLimit(headers));
    expect(err.code).toBe("upstream_rate_limited");
    expect(err.status).toBe(429);
    expect(err.headers["Retry-After"]).toBe(expected);
    expect(err.message).toContain(`${expected} s`);
  });

  it("an exhausted quota becomes upstream_error, without Retry-After", async () => {
    const err = await fail(
      openAIError(
        429,
        { message: "You exceeded your current quota.", type: "insufficient_quota", code: "insufficient_quota" },
        { "retry-after": "5" },
      ),
    );
    expect(err.code).toBe("upstream_error");
    expect(err.headers).not.toHaveProperty("Retry-After");
  });
});

describe("upstreamFailure: server errors", () => {
  it.each([500, 502, 503])("%d becomes upstream_error", async (status) => {
    const err = await fail(openAIError(status, { message: "The server had an error.", type: "server_error" }));
    expect(err.code).toBe("upstream_error");
  });

  it.each([504, 408, 524])("%d becomes upstream_timeout", async (status) => {
    expect((await fail(new Response("", { status }))).code).toBe("upstream_timeout");
  });

  it("a body that is not JSON becomes upstream_error", async () => {
    const res = new Response("<html><body>502 Bad Gateway</body></html>", {
      status: 502,
      headers: { "content-type": "text/html" },
    });
    const err = await fail(res);
    expect(err.code).toBe("upstream_error");
    expect(err.message).not.toContain("html");
  });
});

describe("upstreamFailure: a 403 that OpenAI did not write", () => {
  it("is upstream_error, not a key problem", async () => {
    const res = new Response("<html>Access denied</html>", { status: 403, headers: { "content-type": "text/html" } });
    expect((await fail(res)).code).toBe("upstream_error");
  });
});

describe("upstreamFailure: the relay's own errors", () => {
  const relayError = (status: number, code: string) =>
    openAIError(status, { message: "relay says no", type: "relay_error", code });

  it.each([
    [403, "relay_token_invalid"],
    [401, "relay_token_missing"],
    [403, "relay_private"],
  ])("%d %s becomes config_error about RELAY_TOKEN", async (status, code) => {
    const err = await fail(relayError(status, code));
    expect(err.code).toBe("config_error");
    expect(err.message).toContain("RELAY_TOKEN");
  });

  it.each([
    [404, "not_found"],
    [405, "method_not_allowed"],
  ])("%d %s becomes config_error about OPENAI_PROXY", async (status, code) => {
    const err = await fail(relayError(status, code));
    expect(err.code).toBe("config_error");
    expect(err.message).toContain("OPENAI_PROXY");
  });

  it("an unreachable upstream becomes upstream_error", async () => {
    expect((await fail(relayError(502, "upstream_unreachable"))).code).toBe("upstream_error");
  });
});

describe("retryAfterSeconds", () => {
  it("prefers retry-after-ms, rounded up to whole seconds", () => {
    expect(retryAfterSeconds(new Headers({ "retry-after-ms": "2001", "retry-after": "9" }))).toBe(3);
  });

  it("falls back to retry-after, then to a default", () => {
    expect(retryAfterSeconds(new Headers({ "retry-after-ms": "0", "retry-after": "4" }))).toBe(4);
    expect(retryAfterSeconds(new Headers({ "retry-after": "1.2" }))).toBe(2);
    expect(retryAfterSeconds(new Headers({ "retry-after": "soon" }))).toBe(20);
    expect(retryAfterSeconds(new Headers({ "retry-after": "-3" }))).toBe(20);
    expect(retryAfterSeconds(new Headers())).toBe(20);
  });
});
