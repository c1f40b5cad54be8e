import { describe, expect, it } from "vitest";
import { buildDownstreamHeaders, buildUpstreamHeaders, operatorHeaders } from "../../../workers/relay/src/headers";

/** What an edge request to the relay can carry: the end user's identity among the useful headers. */
const incoming = () =>
  new Headers({
    "content-type": "application/json",
    accept: "application/json",
    "openai-organization": "org-123",
    "openai-project": "proj_456",
    authorization: "Bearer sk-caller-key",
    "cf-connecting-ip": "203.0.113.7",
    "cf-connecting-ipv6": "2001:db8::7",
    "cf-pseudo-ipv4": "240.0.0.7",
    "true-client-ip": "203.0.113.7",
    "x-forwarded-for": "203.0.113.7, 198.51.100.1",
    "x-real-ip": "203.0.113.7",
    forwarded: "for=203.0.113.7",
    "cf-ipcountry": "HK",
    "cf-ray": "8f00000000000000-HKG",
    "cf-visitor": '{"scheme":"https"}',
    "cf-ew-via": "15",
    "cdn-loop": "cloudflare",
    cookie: "session=abc",
    "x-relay-token": "relay-secret",
    "x-stainless-os": "MacOS",
    "x-stainless-lang": "js",
    "x-stainless-package-version": "6.0.0",
    "user-agent": "OpenAI/JS 6.0.0 (user's machine)",
    "x-request-id": "req_caller",
  });

const LEAKY = [
  "cf-connecting-ip",
  "cf-connecting-ipv6",
  "cf-pseudo-ipv4",
  "true-client-ip",
  "x-forwarded-for",
  "x-real-ip",
  "forwarded",
  "cf-ipcountry",
  "cf-ray",
  "cf-visitor",
  "cf-ew-via",
  "cdn-loop",
  "cookie",
  "x-relay-token",
  "x-stainless-os",
  "x-stainless-lang",
  "x-stainless-package-version",
];

describe("buildUpstreamHeaders", () => {
  it.each(LEAKY)("never copies %s", (name) => {
    expect(buildUpstreamHeaders(incoming(), { apiKey: "sk-relay-key" }, "req_1").has(name)).toBe(false);
    expect(buildUpstreamHeaders(incoming(), {}, "req_1").has(name)).toBe(false);
  });

  it("sends only allowlisted headers, with its own user-agent and the request id", () => {
    const out = buildUpstreamHeaders(incoming(), {}, "req_1");
    expect([...out.keys()].sort()).toEqual(
      [
        "accept",
        "authorization",
        "content-type",
        "openai-organization",
        "openai-project",
        "user-agent",
        "x-client-request-id",
      ].sort(),
    );
    expect(out.get("user-agent")).toBe("openai-image-relay");
    expect(out.get("x-client-request-id")).toBe("req_1");
    expect(out.get("content-type")).toBe("application/json");
    expect(out.get("accept")).toBe("application/json");
    expect(out.get("openai-organization")).toBe("org-123");
    expect(out.get("openai-project")).toBe("proj_456");
  });

  it("replaces the caller's Authorization with its own key", () => {
    expect(buildUpstreamHeaders(incoming(), { apiKey: "sk-relay-key" }, "req_1").get("authorization")).toBe(
      "Bearer sk-relay-key",
    );
  });

  it("forwards the caller's Authorization when it has no key", () => {
    expect(buildUpstreamHeaders(incoming(), {}, "req_1").get("authorization")).toBe("Bearer sk-caller-key");
  });

  it("with the operator's key, never lets the caller choose the organisation or project billed", () => {
    const out = buildUpstreamHeaders(incoming(), { apiKey: "sk-relay-key" }, "req_1");
    expect(out.has("openai-organization")).toBe(false);
    expect(out.has("openai-project")).toBe(false);
  });

  it("with the operator's key, sends the operator's organisation and project instead of the caller's", () => {
    const operator = { apiKey: "sk-relay-key", organization: "org-operator", project: "proj_operator" };
    const out = buildUpstreamHeaders(incoming(), operator, "req_1");
    expect(out.get("openai-organization")).toBe("org-operator");
    expect(out.get("openai-project")).toBe("proj_operator");
    expect(out.get("authorization")).toBe("Bearer sk-relay-key");
  });

  it("with the caller's own key, forwards the caller's organisation and project, not the operator's", () => {
    const out = buildUpstreamHeaders(incoming(), { organization: "org-operator", project: "proj_operator" }, "req_1");
    expect(out.get("openai-organization")).toBe("org-123");
    expect(out.get("openai-project")).toBe("proj_456");
    expect(out.get("authorization")).toBe("Bearer sk-caller-key");
  });

  it("operatorHeaders (also the diagnostics' probes): the operator's key and billing, nothing without a key", () => {
    const operator = { apiKey: "sk-relay-key", organization: "org-operator", project: "proj_operator" };
    expect(operatorHeaders(operator)).toEqual({
      authorization: "Bearer sk-relay-key",
      "openai-organization": "org-operator",
      "openai-project": "proj_operator",
    });
    expect(operatorHeaders({ apiKey: "sk-relay-key" })).toEqual({ authorization: "Bearer sk-relay-key" });
    expect(operatorHeaders({ organization: "org-operator", project: "proj_operator" })).toEqual({});
  });

  it("sends no Authorization when neither has one", () => {
    expect(
      buildUpstreamHeaders(new Headers({ "content-type": "application/json" }), {}, "r").has("authorization"),
    ).toBe(false);
  });
});

describe("buildDownstreamHeaders", () => {
  const upstream = () => {
    const h = new Headers({
      "content-type": "application/json",
      "x-request-id": "req_openai",
      "openai-processing-ms": "4211",
      "openai-version": "2020-10-01",
      "openai-organization": "org-secret",
      "x-ratelimit-limit-requests": "50",
      "x-ratelimit-remaining-tokens": "9000",
      "x-ratelimit-reset-requests": "1.2s",
      "retry-after": "3",
      "retry-after-ms": "2500",
      "cf-ray": "8f00000000000000-SJC",
      "content-encoding": "gzip",
      "content-length": "1234",
      "strict-transport-security": "max-age=31536000",
      "alt-svc": 'h3=":443"',
      server: "cloudflare",
    });
    h.append("set-cookie", "__cf_bm=abc; path=/");
    h.append("set-cookie", "_cfuvid=def; path=/");
    return h;
  };

  it("keeps what clients use", () => {
    const out = buildDownstreamHeaders(upstream(), "req_relay", "placed");
    expect(out).toEqual({
      "content-type": "application/json",
      "x-request-id": "req_openai",
      "openai-processing-ms": "4211",
      "openai-version": "2020-10-01",
      "x-ratelimit-limit-requests": "50",
      "x-ratelimit-remaining-tokens": "9000",
      "x-ratelimit-reset-requests": "1.2s",
      "retry-after": "3",
      "retry-after-ms": "2500",
      "x-relay-request-id": "req_relay",
      "x-relay-egress": "placed",
    });
  });

  it.each([
    "set-cookie",
    "cf-ray",
    "content-encoding",
    "content-length",
    "strict-transport-security",
    "openai-organization",
    "server",
  ])("drops %s", (name) => {
    expect(Object.keys(buildDownstreamHeaders(upstream(), "req_relay", "placed"))).not.toContain(name);
  });
});
