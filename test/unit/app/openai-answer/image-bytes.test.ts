import { afterEach, describe, expect, it } from "vitest";
import { answerError } from "../../../../workers/app/src/failures/public";
import { AnswerFailure } from "../../../../workers/app/src/openai-answer/failure";
import { decodeBase64, imageBytes } from "../../../../workers/app/src/openai-answer/image-bytes";

const encode = (data: Uint8Array) => btoa(Array.from(data, (b) => String.fromCharCode(b)).join(""));
const random = (length: number) => {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65,536 bytes per call.
  for (let i = 0; i < length; i += 65_536) crypto.getRandomValues(out.subarray(i, i + 65_536));
  return out;
};
const LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255, 256, 65_537, 1_000_003];

describe("decodeBase64", () => {
  it.each(LENGTHS)("round-trips %d random bytes", (length) => {
    const data = random(length);
    expect(decodeBase64(encode(data))).toEqual(data);
  });

  it("decodes every byte value", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(decodeBase64(encode(all))).toEqual(all);
  });

  it("throws on text that is not base64", () => {
    expect(() => decodeBase64("not base64!")).toThrow();
  });
});

describe("decodeBase64 without Uint8Array.fromBase64 (older runtimes)", () => {
  const original = Object.getOwnPropertyDescriptor(Uint8Array, "fromBase64");
  afterEach(() => {
    if (original) Object.defineProperty(Uint8Array, "fromBase64", original);
  });
  const withoutNative = <T>(fn: () => T): T => {
    Reflect.deleteProperty(Uint8Array, "fromBase64");
    expect("fromBase64" in Uint8Array).toBe(false);
    return fn();
  };

  it.each(LENGTHS)("round-trips %d random bytes", (length) => {
    const data = random(length);
    expect(withoutNative(() => decodeBase64(encode(data)))).toEqual(data);
  });

  it("throws on text that is not base64", () => {
    expect(() => withoutNative(() => decodeBase64("not base64!"))).toThrow();
  });
});

describe("imageBytes", () => {
  const signal = new AbortController().signal;

  it("decodes b64_json", async () => {
    const data = random(100);
    expect(await imageBytes({ b64_json: encode(data) }, signal)).toEqual(data);
  });

  it.each([
    ["undecodable base64", { b64_json: "%%%" }, "undecodable"],
    ["a URL that is not http(s)", { url: "file:///etc/passwd" }, "download_failed"],
    ["neither", {}, "download_failed"],
  ])("turns %s into upstream_error", async (_label, image, kind) => {
    const err = await imageBytes(image, signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AnswerFailure);
    expect((err as AnswerFailure).kind).toBe(kind);
    expect(answerError(err as AnswerFailure).code).toBe("upstream_error");
  });
});
