import { describe, expect, it } from "vitest";
import { REQUEST_ID_HEADER, requestIdFrom } from "../../../workers/shared/request-id";

const GENERATED = /^req_[0-9a-f]{32}$/;
const withId = (id: string) => new Headers({ [REQUEST_ID_HEADER]: id });
/** Headers refuses CR/LF in values, so a raw value reaches the check only through a stand-in. */
const rawHeaders = (id: string) => ({ get: (name: string) => (name === REQUEST_ID_HEADER ? id : null) }) as Headers;

describe("requestIdFrom", () => {
  it.each(["abc", "req_123", "01HX-9.a:b_c", "x".repeat(128)])("keeps the plain id %j", (id) => {
    expect(requestIdFrom(withId(id))).toBe(id);
  });

  it("reads the header case-insensitively", () => {
    expect(requestIdFrom(new Headers({ "x-request-id": "abc" }))).toBe("abc");
  });

  it.each([
    ["with a space", "a b"],
    ["with a tab", "a\tb"],
    ["with quotes", 'a"b'],
    ["with a slash", "a/b"],
    ["over 128 characters", "x".repeat(129)],
  ])("replaces an id %s", (_label, id) => {
    const result = requestIdFrom(withId(id));
    expect(result).not.toBe(id);
    expect(result).toMatch(GENERATED);
  });

  it.each(["abc\r\nSet-Cookie: x=1", "abc\n", "abc\rdef", "abc\u0000", "réq"])(
    "replaces %j (control or non-ASCII characters)",
    (id) => {
      expect(requestIdFrom(rawHeaders(id))).toMatch(GENERATED);
    },
  );

  it("makes a fresh id when there is none, different each time", () => {
    const a = requestIdFrom(new Headers());
    const b = requestIdFrom(withId(""));
    expect(a).toMatch(GENERATED);
    expect(b).toMatch(GENERATED);
    expect(a).not.toBe(b);
  });
});
