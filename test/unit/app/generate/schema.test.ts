import { describe, expect, it } from "vitest";
import { describeIssue, GENERATE_FIELDS, generateRequestSchema } from "../../../../workers/app/src/generate/schema";

/** Parses a body and returns the first problem as the API would report it, or the parsed data. */
function check(body: unknown) {
  const result = generateRequestSchema.safeParse(body);
  return result.success
    ? { ok: true as const, data: result.data }
    : { ok: false as const, ...describeIssue(result.error) };
}

describe("generateRequestSchema: valid bodies", () => {
  it("accepts a prompt alone", () => {
    expect(check({ prompt: "a red fox" })).toEqual({ ok: true, data: { prompt: "a red fox" } });
  });

  it("accepts every documented field together", () => {
    const body = {
      prompt: "a red fox",
      model: "gpt-image-1",
      size: "1536x1024",
      quality: "high",
      n: 10,
      output_format: "webp",
      output_compression: 0,
      background: "transparent",
      moderation: "low",
      user: "user-123",
    };
    expect(check(body)).toEqual({ ok: true, data: body });
  });

  it("accepts a prompt of exactly 32,000 characters", () => {
    expect(check({ prompt: "x".repeat(32_000) }).ok).toBe(true);
  });

  it("lists exactly the fields it accepts", () => {
    expect([...GENERATE_FIELDS].sort()).toEqual(
      [
        "background",
        "model",
        "moderation",
        "n",
        "output_compression",
        "output_format",
        "prompt",
        "quality",
        "size",
        "user",
        "stream",
        "partial_images",
      ].sort(),
    );
  });
});

describe("generateRequestSchema: prompt", () => {
  it.each([
    ["missing", {}],
    ["empty", { prompt: "" }],
    ["whitespace only", { prompt: " \n\t  " }],
    ["over 32,000 characters", { prompt: "x".repeat(32_001) }],
    ["not a string", { prompt: 42 }],
    ["null", { prompt: null }],
  ])("rejects a prompt that is %s, with param prompt", (_label, body) => {
    const result = check(body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.param).toBe("prompt");
    expect(result.message).toMatch(/^prompt/);
  });

  it("says what is wrong with an empty or too long prompt", () => {
    expect(check({ prompt: "   " })).toMatchObject({ message: "prompt must not be empty" });
    expect(check({ prompt: "x".repeat(32_001) })).toMatchObject({ message: expect.stringContaining("32,000") });
  });
});

describe("generateRequestSchema: unknown fields", () => {
  it.each(["response_format", "style", "seed", "image"])("rejects %s, naming it", (field) => {
    const result = check({ prompt: "a fox", [field]: "x" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.param).toBe(field);
    expect(result.message).toContain(`"${field}"`);
    expect(result.message).toContain("Allowed fields");
  });
  it("rejects a __proto__ key from JSON instead of merging it", () => {
    const result = check(JSON.parse('{"prompt":"a fox","__proto__":{"n":99}}'));
    expect(result).toMatchObject({ ok: false, param: "__proto__" });
  });
});

describe("generateRequestSchema: types and ranges", () => {
  it.each([
    ["n", "2"],
    ["n", 1.5],
    ["n", 0],
    ["n", 11],
    ["n", -1],
    ["size", 1024],
    ["size", "big"],
    ["size", "1024x"],
    ["size", "1024*1024"],
    ["quality", "ultra"],
    ["output_format", "gif"],
    ["output_compression", 101],
    ["output_compression", -1],
    ["output_compression", "50"],
    ["background", "white"],
    ["moderation", "off"],
    ["model", ""],
    ["model", 3],
    ["user", ""],
  ])("rejects %s = %j, naming the field", (param, value) => {
    const result = check({ prompt: "a fox", [param]: value });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.param).toBe(param);
    expect(result.message.startsWith(param)).toBe(true);
  });

  it.each([1, 10])("accepts n = %d", (n) => {
    expect(check({ prompt: "a fox", n }).ok).toBe(true);
  });

  it.each([[null], [[]], ["a fox"], [42]])("rejects a body that is not an object (%j) without a param", (body) => {
    expect(check(body)).toEqual({ ok: false, message: "The request body must be a JSON object." });
  });
});

describe("describeIssue", () => {
  it("has a message even without issues", () => {
    expect(describeIssue({ issues: [] })).toEqual({ message: "Invalid request body." });
  });
});

describe("generateRequestSchema: messages a client can act on", () => {
  it("a missing prompt is 'required', a wrong type is 'must be a string'", () => {
    expect(check({})).toMatchObject({ ok: false, param: "prompt", message: "prompt is required" });
    expect(check({ prompt: 7 })).toMatchObject({ ok: false, param: "prompt", message: "prompt must be a string" });
  });

  it("rejects zero-padded sizes, which OpenAI would refuse", () => {
    expect(check({ prompt: "a", size: "01024x01024" })).toMatchObject({ ok: false, param: "size" });
    expect(check({ prompt: "a", size: "1024x0" })).toMatchObject({ ok: false, param: "size" });
  });
});

describe("generateRequestSchema: streaming fields", () => {
  it("takes stream as a boolean and partial_images from 0 to 3", () => {
    expect(check({ prompt: "a", stream: true, partial_images: 0 }).ok).toBe(true);
    expect(check({ prompt: "a", stream: true, partial_images: 3 }).ok).toBe(true);
    expect(check({ prompt: "a", stream: "yes" })).toMatchObject({ ok: false, param: "stream" });
    expect(check({ prompt: "a", stream: true, partial_images: 4 })).toMatchObject({
      ok: false,
      param: "partial_images",
    });
  });
});
