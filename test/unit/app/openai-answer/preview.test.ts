import { describe, expect, it } from "vitest";
import { previewUrl } from "../../../../workers/app/src/openai-answer/preview";

describe("previewUrl", () => {
  const b64 = (bytes: number[]) => Buffer.from([...bytes, ...new Array(16).fill(0)]).toString("base64");

  it("types PNG, JPEG and WebP from their bytes", () => {
    expect(previewUrl(b64([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toMatch(/^data:image\/png;base64,/);
    expect(previewUrl(b64([0xff, 0xd8, 0xff]))).toMatch(/^data:image\/jpeg;base64,/);
    const webp = [0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x45, 0x42, 0x50];
    expect(previewUrl(b64(webp))).toMatch(/^data:image\/webp;base64,/);
  });

  it.each([
    ["SVG", Buffer.from("<svg><script>alert(1)</script></svg>").toString("base64")],
    ["GIF", b64([0x47, 0x49, 0x46, 0x38])],
    ["not base64", "%%%%%%%%%%%%%%%%%%%%"],
    ["empty", ""],
  ])("drops %s", (_name, data) => {
    expect(previewUrl(data)).toBeUndefined();
  });
});
