import { describe, expect, it } from "vitest";
import { GENERATION_ID, isGenerationId, newGenerationId } from "../../../../workers/app/src/generations/id";

describe("generation ids", () => {
  it("are gen_ + 32 lowercase hex and pass their own check", () => {
    const id = newGenerationId();
    expect(id).toMatch(/^gen_[0-9a-f]{32}$/);
    expect(isGenerationId(id)).toBe(true);
  });

  it("differ every time (128 random bits)", () => {
    const ids = new Set(Array.from({ length: 1000 }, newGenerationId));
    expect(ids.size).toBe(1000);
  });

  it("use every hex digit over many ids (not a counter or a timestamp)", () => {
    const digits = new Set(Array.from({ length: 50 }, newGenerationId).join("").replaceAll("gen_", ""));
    expect(digits.size).toBe(16);
  });

  it.each([
    ["the old 24-hex form", `gen_${"a".repeat(24)}`],
    ["upper case", `gen_${"A".repeat(32)}`],
    ["too long", `gen_${"a".repeat(33)}`],
    ["no prefix", "a".repeat(32)],
    ["a path", `gen_${"a".repeat(31)}/`],
    ["a trailing newline", `gen_${"a".repeat(32)}\n`],
    ["empty", ""],
  ])("reject %s", (_name, value) => {
    expect(isGenerationId(value)).toBe(false);
    expect(GENERATION_ID.test(value)).toBe(false);
  });

  it("reject non-strings", () => {
    expect(isGenerationId(undefined)).toBe(false);
    expect(isGenerationId(42)).toBe(false);
  });
});
