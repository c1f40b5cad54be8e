import { describe, expect, it } from "vitest";
import { LARGEST_TABLE, SQUARE_TOKENS, worstImageTokens } from "../../../../workers/app/src/guard/image-tokens";
import {
  actualCost,
  type CostQuery,
  DEFAULT_PRICES,
  estimateCost,
  parsePriceTable,
} from "../../../../workers/app/src/guard/pricing";

const query = (q: Partial<CostQuery> & { model: string }): CostQuery => ({
  n: 1,
  partialImages: 0,
  promptChars: 0,
  ...q,
});

describe("worstImageTokens", () => {
  it("uses OpenAI's gpt-image-1 table for the square and 1.5 times it for portrait and landscape", () => {
    expect(worstImageTokens("gpt-image-1", "low", "1024x1024")).toBe(272);
    expect(worstImageTokens("gpt-image-1", "medium", "1024x1024")).toBe(1056);
    expect(worstImageTokens("gpt-image-1", "high", "1024x1024")).toBe(4160);
    expect(worstImageTokens("gpt-image-1", "low", "1024x1536")).toBe(408);
    expect(worstImageTokens("gpt-image-1", "medium", "1536x1024")).toBe(1584);
    expect(worstImageTokens("gpt-image-1", "high", "1024x1536")).toBe(6240);
  });

  it("takes auto (or nothing) as high quality at the model's largest size", () => {
    expect(worstImageTokens("gpt-image-1", "auto", "auto")).toBe(6240);
    expect(worstImageTokens("gpt-image-1", undefined, undefined)).toBe(6240);
    expect(worstImageTokens("gpt-image-1.5", undefined, "1024x1024")).toBe(4160);
    // gpt-image-2's largest: 8,294,400 pixels, 7.91 squares of 7034 tokens.
    expect(worstImageTokens("gpt-image-2", "auto", "auto")).toBe(Math.ceil((7034 * 8_294_400) / 1_048_576));
  });

  it("scales gpt-image-2's free sizes by area, never below the square", () => {
    expect(worstImageTokens("gpt-image-2", "high", "2048x2048")).toBe(4 * 7034);
    expect(worstImageTokens("gpt-image-2", "medium", "3840x2160")).toBe(Math.ceil((1767 * 3840 * 2160) / 1_048_576));
    expect(worstImageTokens("gpt-image-2", "low", "1024x768")).toBe(200);
  });

  it("gives models without a published table the largest one, and unknown models free sizes", () => {
    expect(SQUARE_TOKENS["gpt-image-1-mini"]).toBe(LARGEST_TABLE);
    expect(LARGEST_TABLE).toEqual({ low: 272, medium: 1767, high: 7034 });
    expect(worstImageTokens("gpt-image-1-mini", "high", undefined)).toBe(Math.ceil(7034 * 1.5));
    expect(worstImageTokens("some-future-model", undefined, undefined)).toBe(
      worstImageTokens("gpt-image-2", "high", "auto"),
    );
  });
});

describe("estimateCost: the hold", () => {
  it("prices the worst-case output tokens, the partial images and the prompt, per image", () => {
    // gpt-image-1 1024x1024 medium: 1056 output tokens at $40/M is $0.042; per_image is dearer.
    const one = estimateCost(DEFAULT_PRICES, query({ model: "gpt-image-1", size: "1024x1024", quality: "medium" }));
    expect(one).toBe(0.25);
    // 1024x1536 high: 6240 + 2 partials x 100 output tokens at $40/M, 84 + 16 text tokens at $5/M.
    const high = query({ model: "gpt-image-1", size: "1024x1536", quality: "high", partialImages: 2, promptChars: 84 });
    expect(estimateCost(DEFAULT_PRICES, high)).toBeCloseTo((6440 * 40 + 100 * 5) / 1e6, 10);
    expect(estimateCost(DEFAULT_PRICES, { ...high, n: 3 })).toBeCloseTo((3 * (6440 * 40 + 100 * 5)) / 1e6, 10);
  });

  it("holds about $1.67 for an auto gpt-image-2 call, the case that overshot 4.8 times at $0.25", () => {
    const hold = estimateCost(DEFAULT_PRICES, query({ model: "gpt-image-2", promptChars: 32 }));
    expect(hold).toBeCloseTo((55_641 * 30 + 48 * 5) / 1e6, 6);
    // What the hostile upstream billed per call (40,000 output tokens) fits inside it.
    expect(actualCost(DEFAULT_PRICES, "gpt-image-2", 1, { input_tokens: 50, output_tokens: 40_000 })).toBeLessThan(
      hold,
    );
  });

  it("is per_image x n for models billed per image", () => {
    expect(estimateCost(DEFAULT_PRICES, query({ model: "dall-e-3", quality: "hd", n: 1, promptChars: 4000 }))).toBe(
      0.12,
    );
    expect(estimateCost(DEFAULT_PRICES, query({ model: "dall-e-2", n: 10 }))).toBeCloseTo(0.2, 10);
  });

  it("follows the operator's PRICE_TABLE", () => {
    const table = parsePriceTable(JSON.stringify({ "gpt-image-1": { image_output_per_mtok: 100, per_image: 0 } }));
    if (typeof table === "string") throw new Error(`PRICE_TABLE refused: ${table}`);
    const cost = estimateCost(table, query({ model: "gpt-image-1", size: "1024x1024", quality: "low" }));
    expect(cost).toBeCloseTo((272 * 100 + 16 * 5) / 1e6, 10);
  });
});

describe("actualCost: the settle", () => {
  it("charges OpenAI's usage by kind of token", () => {
    const usage = {
      input_tokens: 150,
      output_tokens: 1056,
      input_tokens_details: { text_tokens: 50, image_tokens: 100 },
    };
    expect(actualCost(DEFAULT_PRICES, "gpt-image-1", 1, usage)).toBeCloseTo((50 * 5 + 100 * 10 + 1056 * 40) / 1e6, 10);
  });

  it("charges per_image per image without usage, and ignores nonsense numbers", () => {
    expect(actualCost(DEFAULT_PRICES, "gpt-image-1", 2, undefined)).toBe(0.5);
    expect(actualCost(DEFAULT_PRICES, "gpt-image-1", 1, { input_tokens: -5, output_tokens: "many" })).toBe(0);
  });
});
