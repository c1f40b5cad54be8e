import { describe, expect, it } from "vitest";
import { flexibleSizeProblem, modelParamProblem } from "../../../../workers/app/src/generate/models";

describe("modelParamProblem: fixed-size GPT image models", () => {
  it.each(["auto", "1024x1024", "1536x1024", "1024x1536"])("gpt-image-1 accepts size %s", (size) => {
    expect(modelParamProblem("gpt-image-1", { size })).toBeUndefined();
  });

  it("gpt-image-1 rejects 1792x1024 and lists its sizes", () => {
    const problem = modelParamProblem("gpt-image-1", { size: "1792x1024" });
    expect(problem?.param).toBe("size");
    expect(problem?.message).toContain("gpt-image-1");
    expect(problem?.message).toContain("1536x1024");
  });

  it("gpt-image-1 rejects DALL-E qualities", () => {
    expect(modelParamProblem("gpt-image-1", { quality: "hd" })?.param).toBe("quality");
    expect(modelParamProblem("gpt-image-1", { quality: "high" })).toBeUndefined();
  });

  it("gpt-image-1 takes up to 10 images and all GPT-only params", () => {
    expect(
      modelParamProblem("gpt-image-1", {
        n: 10,
        output_format: "webp",
        output_compression: 80,
        background: "transparent",
        moderation: "low",
      }),
    ).toBeUndefined();
  });
});

describe("modelParamProblem: gpt-image-2 flexible sizes", () => {
  it.each(["auto", "1024x1024", "2048x1152", "1024x640", "3840x2160", "3840x1280", "1280x3840"])(
    "accepts %s",
    (size) => {
      expect(modelParamProblem("gpt-image-2", { size })).toBeUndefined();
    },
  );

  it.each([
    ["1000x1000", "multiples of 16"],
    ["3840x1200", "3:1"],
    ["1200x3840", "3:1"],
    ["4000x2000", "3840"],
    ["256x256", "pixels"],
    ["512x512", "pixels"],
    ["16x16", "pixels"],
  ])("rejects %s (%s)", (size, reason) => {
    const problem = modelParamProblem("gpt-image-2", { size });
    expect(problem?.param).toBe("size");
    expect(problem?.message).toContain("gpt-image-2");
    expect(problem?.message).toContain(reason);
  });

  it("flexibleSizeProblem rejects text that is not WIDTHxHEIGHT", () => {
    expect(flexibleSizeProblem("large")).toBeDefined();
    expect(flexibleSizeProblem("1024x1024x2")).toBeDefined();
  });
});

describe("modelParamProblem: DALL-E", () => {
  it("dall-e-3 makes one image per request", () => {
    expect(modelParamProblem("dall-e-3", { n: 1 })).toBeUndefined();
    const problem = modelParamProblem("dall-e-3", { n: 2 });
    expect(problem?.param).toBe("n");
    expect(problem?.message).toContain("dall-e-3");
  });

  it("dall-e-3 takes its own sizes and qualities only", () => {
    expect(modelParamProblem("dall-e-3", { size: "1792x1024", quality: "hd" })).toBeUndefined();
    expect(modelParamProblem("dall-e-3", { size: "1536x1024" })?.param).toBe("size");
    expect(modelParamProblem("dall-e-3", { quality: "high" })?.param).toBe("quality");
  });

  it.each([
    ["output_format", { output_format: "png" }],
    ["background", { background: "opaque" }],
    ["moderation", { moderation: "low" }],
    ["output_compression", { output_compression: 50 }],
  ] as const)("dall-e-2 rejects the GPT-only param %s", (param, params) => {
    const problem = modelParamProblem("dall-e-2", params);
    expect(problem?.param).toBe(param);
    expect(problem?.message).toContain(param);
  });

  it("dall-e-2 accepts its own sizes", () => {
    expect(modelParamProblem("dall-e-2", { size: "512x512", n: 10 })).toBeUndefined();
    expect(modelParamProblem("dall-e-2", { size: "1024x1536" })?.param).toBe("size");
  });
});

describe("modelParamProblem: rules for every model", () => {
  it.each(["gpt-image-1", "gpt-image-2", "some-future-model"])("%s: output_compression needs jpeg or webp", (model) => {
    expect(modelParamProblem(model, { output_compression: 50 })?.param).toBe("output_compression");
    expect(modelParamProblem(model, { output_compression: 50, output_format: "png" })?.param).toBe(
      "output_compression",
    );
    expect(modelParamProblem(model, { output_compression: 50, output_format: "jpeg" })).toBeUndefined();
    expect(modelParamProblem(model, { output_compression: 0, output_format: "webp" })).toBeUndefined();
  });

  it.each(["gpt-image-1", "gpt-image-2", "some-future-model"])(
    "%s: transparent background needs png or webp",
    (model) => {
      expect(modelParamProblem(model, { background: "transparent", output_format: "jpeg" })?.param).toBe("background");
      expect(modelParamProblem(model, { background: "transparent", output_format: "png" })).toBeUndefined();
      expect(modelParamProblem(model, { background: "transparent", output_format: "webp" })).toBeUndefined();
    },
  );

  it("an unknown model gets only the generic checks", () => {
    expect(
      modelParamProblem("some-future-model", {
        size: "1792x1024",
        quality: "hd",
        n: 10,
        output_format: "png",
        background: "opaque",
        moderation: "low",
      }),
    ).toBeUndefined();
  });
});
