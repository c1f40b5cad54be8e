import { describe, expect, it } from "vitest";
import { sha256Hex, toHex } from "../../../workers/shared/sha256";

describe("sha256Hex", () => {
  it("matches the FIPS 180-2 test vectors", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("hashes the UTF-8 bytes of the text", async () => {
    expect(await sha256Hex("é")).not.toBe(await sha256Hex("e\u0301"));
  });
});

describe("toHex", () => {
  it("writes two lower-case digits per byte, leading zeros kept", () => {
    expect(toHex(new Uint8Array([0, 10, 255]))).toBe("000aff");
  });
});
