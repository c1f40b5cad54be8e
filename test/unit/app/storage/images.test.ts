import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  IMAGE_NAME,
  type ImageType,
  imageKey,
  newImageName,
  sniffImageType,
  storeImage,
} from "../../../../workers/app/src/storage/images";

const bytes = (...values: number[]) => new Uint8Array(values);
const ascii = (text: string) => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
};

const PNG = bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13);
const JPEG = bytes(0xff, 0xd8, 0xff, 0xe0, 0, 16);
const WEBP = concat(ascii("RIFF"), bytes(0x24, 0x08, 0, 0), ascii("WEBPVP8 "));
const GIF = ascii("GIF89a\x01\x00");

describe("sniffImageType", () => {
  it.each([
    ["png", PNG],
    ["jpeg", JPEG],
    ["webp", WEBP],
    ["gif", GIF],
    ["gif", ascii("GIF87a")],
  ] as const)("recognises %s", (type, data) => {
    expect(sniffImageType(data)).toBe(type);
  });

  it.each([
    ["empty", new Uint8Array()],
    ["text", ascii("<html>not an image</html>")],
    ["JSON", ascii('{"error":{"message":"no"}}')],
    ["a RIFF that is not WEBP (WAVE)", concat(ascii("RIFF"), bytes(0x24, 0x08, 0, 0), ascii("WAVEfmt "))],
    ["a truncated PNG signature", PNG.slice(0, 7)],
    ["a truncated JPEG signature", JPEG.slice(0, 2)],
    ["a truncated WEBP header", WEBP.slice(0, 11)],
    ["a PNG signature with one byte wrong", concat(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0b))],
  ])("refuses %s", (_label, data) => {
    expect(sniffImageType(data)).toBeUndefined();
  });
});

describe("names", () => {
  it.each(["png", "jpeg", "webp", "gif"] as const)("newImageName(%s) matches IMAGE_NAME and keeps the type", (type) => {
    const name = newImageName(type);
    expect(name).toMatch(IMAGE_NAME);
    expect(name.endsWith(`.${type}`)).toBe(true);
  });

  it("never repeats over many calls", () => {
    const names = new Set(Array.from({ length: 5000 }, () => newImageName("png")));
    expect(names.size).toBe(5000);
  });

  it("IMAGE_NAME refuses paths and other types", () => {
    for (const name of ["../x.png", `${"a".repeat(32)}.svg`, `${"A".repeat(32)}.png`, `${"a".repeat(31)}.png`]) {
      expect(name).not.toMatch(IMAGE_NAME);
    }
  });
});

describe("storeImage", () => {
  it.each([
    ["png", PNG, "image/png"],
    ["webp", WEBP, "image/webp"],
  ] as const)("writes a %s to R2 with its content type and metadata", async (type: ImageType, data, contentType) => {
    const stored = await storeImage(env.IMAGES, data, type, { requestId: "req_abc", model: "gpt-image-1" });
    expect(stored.name).toMatch(IMAGE_NAME);
    expect(stored.name.endsWith(`.${type}`)).toBe(true);
    expect(stored.bytes).toBe(data.byteLength);

    const object = await env.IMAGES.get(imageKey(stored.name));
    expect(object).not.toBeNull();
    expect(object?.httpMetadata?.contentType).toBe(contentType);
    expect(object?.customMetadata).toEqual({ request_id: "req_abc", model: "gpt-image-1" });
    expect(new Uint8Array((await object?.arrayBuffer()) ?? new ArrayBuffer(0))).toEqual(data);
  });

  it("stores each image under a new key", async () => {
    const a = await storeImage(env.IMAGES, PNG, "png", { requestId: "r", model: "m" });
    const b = await storeImage(env.IMAGES, PNG, "png", { requestId: "r", model: "m" });
    expect(a.name).not.toBe(b.name);
  });
});
