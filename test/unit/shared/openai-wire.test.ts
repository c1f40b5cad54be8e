import { describe, expect, it } from "vitest";
import { keyVerdict, parseOpenAIError } from "../../../workers/shared/openai-wire";

describe("parseOpenAIError", () => {
  it("reads OpenAI's error document", () => {
    const text = JSON.stringify({
      error: { message: "Bad size.", type: "invalid_request_error", param: "size", code: "invalid_value" },
    });
    expect(parseOpenAIError(text)).toEqual({
      message: "Bad size.",
      type: "invalid_request_error",
      param: "size",
      code: "invalid_value",
    });
  });

  it("drops fields that are not strings", () => {
    const text = JSON.stringify({ error: { message: 5, type: ["x"], param: null, code: { a: 1 } } });
    expect(parseOpenAIError(text)).toEqual({
      message: undefined,
      type: undefined,
      param: undefined,
      code: undefined,
    });
  });

  it.each([
    null,
    "",
    "not json",
    "<html>502 Bad Gateway</html>",
    "{",
    "null",
    "42",
    '"error"',
    "[]",
    "{}",
    '{"error":null}',
    '{"error":"rate limited"}',
    '{"error":7}',
  ])("gives an empty object for %j", (text) => {
    expect(parseOpenAIError(text)).toEqual({});
  });
});

describe("keyVerdict", () => {
  it("confirms on 200, rejects on 401, and says nothing for any other status", () => {
    expect(keyVerdict(200)).toBe(true);
    expect(keyVerdict(401)).toBe(false);
    for (const status of [403, 404, 429, 500]) expect(keyVerdict(status)).toBeNull();
  });
});
