import { describe, expect, it } from "vitest";
import {
  MAX_RETRY_AFTER_MS,
  retryAfterMs,
  retryAfterMsValue,
  retryAfterValue,
} from "../../../workers/shared/retry-after";

const h = (headers: Record<string, string>) => new Headers(headers);

describe("retryAfterMs", () => {
  const now = Date.parse("2026-11-26T08:00:00Z");

  it("reads retry-after-ms first, then retry-after in seconds or as an HTTP date", () => {
    expect(retryAfterMs(h({ "retry-after-ms": "2500", "retry-after": "9" }), now)).toBe(2500);
    expect(retryAfterMs(h({ "retry-after-ms": "0", "retry-after": "4" }), now)).toBe(4000);
    expect(retryAfterMs(h({ "retry-after": "1.5" }), now)).toBe(1500);
    expect(retryAfterMs(h({ "retry-after": "Thu, 26 Nov 2026 08:00:05 GMT" }), now)).toBe(5000);
    expect(retryAfterMs(h({ "retry-after": "Thu, 26 Nov 2026 07:00:00 GMT" }), now)).toBe(0);
  });

  it("caps absurd values at an hour, in every form", () => {
    expect(retryAfterMs(h({ "retry-after": "99999999999" }), now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs(h({ "retry-after-ms": "1e300" }), now)).toBeUndefined();
    expect(retryAfterMs(h({ "retry-after-ms": "99999999999999" }), now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs(h({ "retry-after": "Fri, 31 Dec 9999 23:59:59 GMT" }), now)).toBe(MAX_RETRY_AFTER_MS);
    expect(MAX_RETRY_AFTER_MS).toBe(3_600_000);
  });

  it.each(["soon", "-3", "1e3", "Infinity", "0x10", ""])("ignores retry-after %j", (value) => {
    expect(retryAfterMs(h({ "retry-after": value }), now)).toBeUndefined();
  });
});

describe("one header's value (the relay's caps on what it passes on)", () => {
  const now = Date.parse("2026-11-26T08:00:00Z");

  it("reads each form as retryAfterMs does, capped; unreadable values give undefined", () => {
    expect(retryAfterValue("Thu, 26 Nov 2026 08:00:05 GMT", now)).toBe(5000);
    expect(retryAfterValue("99999999999", now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterValue("soon", now)).toBeUndefined();
    expect(retryAfterValue(null, now)).toBeUndefined();
    expect(retryAfterMsValue("99999999999999")).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMsValue("0")).toBeUndefined();
    expect(retryAfterMsValue("-5")).toBeUndefined();
  });
});
