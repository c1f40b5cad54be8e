import { describe, expect, it } from "vitest";
import { ApiError, ERROR_CODES, errorEnvelope } from "../../../workers/app/src/errors";

describe("ERROR_CODES", () => {
  // The API contract: clients branch on these, so a change here is a breaking change.
  it.each([
    ["invalid_request", 400],
    ["payload_too_large", 413],
    ["unsupported_media_type", 415],
    ["not_found", 404],
    ["method_not_allowed", 405],
    ["content_policy", 400],
    ["upstream_rate_limited", 429],
    ["region_blocked", 503],
    ["egress_unreachable", 503],
    ["upstream_auth", 502],
    ["upstream_error", 502],
    ["upstream_timeout", 504],
    ["config_error", 500],
    ["internal_error", 500],
    ["unauthorized", 401],
    ["origin_not_allowed", 403],
    ["request_in_progress", 409],
    ["idempotency_key_reused", 422],
    ["rate_limited", 429],
    ["budget_exhausted", 429],
    ["budget_busy", 429],
  ] as const)("%s answers %d", (code, status) => {
    expect(ERROR_CODES[code].status).toBe(status);
    expect(new ApiError(code, "m").status).toBe(status);
  });

  it("uses OpenAI's error types: client errors by kind, server errors server-side", () => {
    for (const [code, { status, type }] of Object.entries(ERROR_CODES)) {
      if (status === 429) expect(type, code).toBe("rate_limit_error");
      else if (status === 401) expect(type, code).toBe("authentication_error");
      else if (status === 403) expect(type, code).toBe("permission_error");
      else if (status < 500) expect(type, code).toBe("invalid_request_error");
      else expect(["server_error", "upstream_error"], code).toContain(type);
    }
  });
});

describe("errorEnvelope", () => {
  it("has OpenAI's shape plus code and request_id", () => {
    const err = new ApiError("invalid_request", "n: too big", { param: "n" });
    expect(errorEnvelope(err, "req_1")).toEqual({
      error: {
        code: "invalid_request",
        message: "n: too big",
        type: "invalid_request_error",
        param: "n",
        request_id: "req_1",
      },
    });
  });

  it("leaves param out when there is none", () => {
    const envelope = errorEnvelope(new ApiError("upstream_timeout", "slow"), "req_2");
    expect(envelope.error).not.toHaveProperty("param");
    expect(envelope.error).toMatchObject({ code: "upstream_timeout", type: "upstream_error", request_id: "req_2" });
  });
});

describe("ApiError", () => {
  it("carries its headers, none by default", () => {
    expect(new ApiError("not_found", "x").headers).toEqual({});
    expect(new ApiError("upstream_rate_limited", "x", { headers: { "Retry-After": "3" } }).headers).toEqual({
      "Retry-After": "3",
    });
  });
});
