import { describe, expect, it } from "vitest";
import { retryAfterMs, verdict } from "../../../../workers/app/src/egress/retry";

const body = (type: string, code: string | null) =>
  JSON.stringify({ error: { message: "m", type, param: null, code } });

describe("what an answer allows next", () => {
  it("a region block: another route", () => {
    expect(
      verdict(403, new Headers(), body("request_forbidden", "unsupported_country_region_territory"), false, 0),
    ).toEqual({
      kind: "region_block",
    });
  });

  it("a relay refusing the app: another route; the same 403 from OpenAI is final", () => {
    const refusal = body("relay_error", "relay_token_invalid");
    expect(verdict(403, new Headers(), refusal, true, 0)).toEqual({
      kind: "relay_refused",
      code: "relay_token_invalid",
    });
    expect(verdict(403, new Headers(), refusal, false, 0)).toEqual({ kind: "final" });
    expect(verdict(403, new Headers(), body("invalid_request_error", null), true, 0)).toEqual({ kind: "final" });
  });

  it("a rate limit: a wait from retry-after-ms, retry-after, or 1 s doubling", () => {
    const limited = body("requests", "rate_limit_exceeded");
    expect(verdict(429, new Headers({ "retry-after-ms": "2500", "retry-after": "3" }), limited, false, 0)).toEqual({
      kind: "rate_limited",
      waitMs: 2500,
    });
    expect(verdict(429, new Headers({ "retry-after": "3" }), limited, false, 0)).toEqual({
      kind: "rate_limited",
      waitMs: 3000,
    });
    expect(verdict(429, new Headers(), limited, false, 1)).toEqual({ kind: "rate_limited", waitMs: 2000 });
  });

  it("insufficient_quota is final, whichever field says it", () => {
    expect(verdict(429, new Headers(), body("insufficient_quota", "insufficient_quota"), false, 0)).toEqual({
      kind: "final",
    });
    expect(verdict(429, new Headers(), body("insufficient_quota", null), false, 0)).toEqual({ kind: "final" });
  });

  it("an HTTP date in retry-after", () => {
    const now = Date.parse("2026-11-26T08:00:00Z");
    expect(retryAfterMs(new Headers({ "retry-after": "Thu, 26 Nov 2026 08:00:05 GMT" }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }), now)).toBeUndefined();
  });
});
