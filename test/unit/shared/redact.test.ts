import { describe, expect, it } from "vitest";
import { redactorFor } from "../../../workers/shared/redact";

describe("redactorFor", () => {
  const redact = redactorFor(["provkey-LEAK-123456", "hunter22", undefined, "pw"]);

  it.each([
    ["Invalid header Authorization: Bearer provkey-LEAK-123456", "provkey-LEAK-123456"],
    ["the key provkey-LEAK-123456 is not valid", "provkey-LEAK-123456"],
    ["Authorization: Bearer abc.def-ghi", "abc.def-ghi"],
    ["authorization: bearer someone-elses-token", "someone-elses-token"],
    ["Proxy-Authorization: Basic dXNlcjpodW50ZXIyMg==", "dXNlcjpodW50ZXIyMg=="],
    ["tunnel via http://user:hunter22@proxy:3128 failed", "hunter22"],
    ["https://bob:s3cret@files.example/x", "s3cret"],
    ["session sess-AbCdEf0123 expired", "AbCdEf0123"],
    ["Incorrect API key provided: sk-abc***wxyz.", "wxyz"],
  ])("masks the credential in %j", (text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain("[redacted]");
  });

  it.each(["Basic information is missing", "Rate limit reached for gpt-image-1", "https://example.com/a@b"])(
    "leaves %j alone (and secrets shorter than 4 characters are not matched by value)",
    (text) => {
      expect(redact(text)).toBe(text);
    },
  );

  it("masks a secret that contains another one whole", () => {
    expect(redactorFor(["abcd", "xxabcdxx"])("key xxabcdxx")).toBe("key [redacted]");
  });
});
