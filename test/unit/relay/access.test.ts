import { describe, expect, it } from "vitest";
import { checkAccess, tokensEqual } from "../../../workers/relay/src/access";

const request = (headers: Record<string, string> = {}) =>
  new Request("https://relay.internal/v1/images/generations", { method: "POST", headers });

describe("tokensEqual", () => {
  it.each([
    ["abc", "abc", true],
    ["", "", true],
    ["tøken-ü", "tøken-ü", true],
    ["abc", "abd", false],
    ["abc", "ABC", false],
    ["abc", "abcd", false],
    ["abcd", "abc", false],
    ["", "abc", false],
    ["abc ", "abc", false],
  ])("%j vs %j: %s", async (a, b, expected) => {
    expect(await tokensEqual(a, b)).toBe(expected);
  });
});

describe("checkAccess without RELAY_TOKEN", () => {
  it("refuses a request that came through the edge (cf-connecting-ip)", async () => {
    const decision = await checkAccess(request({ "cf-connecting-ip": "203.0.113.7" }), {});
    expect(decision).toMatchObject({ ok: false, status: 403, code: "relay_private" });
  });

  it("refuses it even when it brings a token nobody asked for", async () => {
    const decision = await checkAccess(request({ "cf-connecting-ip": "203.0.113.7", "x-relay-token": "x" }), {});
    expect(decision).toMatchObject({ ok: false, status: 403 });
  });

  it("serves the service binding (no cf-connecting-ip)", async () => {
    expect(await checkAccess(request(), {})).toEqual({ ok: true });
  });

  it("treats an empty RELAY_TOKEN as unset", async () => {
    expect(await checkAccess(request({ "cf-connecting-ip": "203.0.113.7" }), { RELAY_TOKEN: "" })).toMatchObject({
      ok: false,
      code: "relay_private",
    });
  });
});

describe("checkAccess with RELAY_TOKEN", () => {
  const env = { RELAY_TOKEN: "s3cret-relay-token" };

  it("answers 401 when the header is missing", async () => {
    expect(await checkAccess(request(), env)).toMatchObject({ ok: false, status: 401, code: "relay_token_missing" });
  });

  it.each(["wrong", "s3cret-relay-toke", "s3cret-relay-token2", "S3CRET-RELAY-TOKEN"])(
    "answers 403 to the wrong token %j",
    async (token) => {
      expect(await checkAccess(request({ "x-relay-token": token }), env)).toMatchObject({
        ok: false,
        status: 403,
        code: "relay_token_invalid",
      });
    },
  );

  it("lets the right token in, through the edge as well", async () => {
    expect(await checkAccess(request({ "X-Relay-Token": "s3cret-relay-token" }), env)).toEqual({ ok: true });
    expect(
      await checkAccess(request({ "x-relay-token": "s3cret-relay-token", "cf-connecting-ip": "203.0.113.7" }), env),
    ).toEqual({ ok: true });
  });

  it("never puts the expected token in a refusal", async () => {
    const decision = await checkAccess(request({ "x-relay-token": "wrong" }), env);
    expect(JSON.stringify(decision)).not.toContain(env.RELAY_TOKEN);
  });
});
