import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addressKey, clientKeyFromHeaders } from "../../../../workers/app/src/guard/client-address";

/** Eight 16-bit groups. */
const groupsArb = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });

/**
 * One spelling of an address, chosen by the flags: upper or lower case, leading zeros, and the
 * longest run of zero groups (or any run) compressed to `::`.
 */
function spell(groups: number[], upper: boolean, pad: boolean, runStart: number, runLength: number): string {
  const hex = groups.map((g) => {
    const h = g.toString(16);
    const padded = pad ? h.padStart(4, "0") : h;
    return upper ? padded.toUpperCase() : padded;
  });
  // Compress a run of zero groups starting at runStart, if there is one of that length there.
  const end = runStart + runLength;
  if (runLength > 0 && end <= 8 && groups.slice(runStart, end).every((g) => g === 0)) {
    return `${hex.slice(0, runStart).join(":")}::${hex.slice(end).join(":")}`;
  }
  return hex.join(":");
}

describe("addressKey", () => {
  it.each([
    ["203.0.113.7", "ip:203.0.113.7"],
    [" 203.0.113.7 ", "ip:203.0.113.7"],
    ["2001:db8:0:1::1", "ip:2001:db8:0:1::/64"],
    ["2001:DB8:0000:0001:0000:0000:0000:0006", "ip:2001:db8:0:1::/64"],
    ["[2001:db8:0:1::ffff]", "ip:2001:db8:0:1::/64"],
    ["fe80::1%eth0", "ip:fe80:0:0:0::/64"],
    ["::ffff:203.0.113.7", "ip:203.0.113.7"],
    ["::FFFF:cb00:7107", "ip:203.0.113.7"],
    ["0:0:0:0:0:ffff:203.0.113.7", "ip:203.0.113.7"],
    ["::1", "ip:0:0:0:0::/64"],
    ["::", "ip:0:0:0:0::/64"],
    ["2001:db8::", "ip:2001:db8:0:0::/64"],
    ["64:ff9b::203.0.113.7", "ip:64:ff9b:0:0::/64"],
  ])("%j -> %s", (text, key) => {
    expect(addressKey(text)).toBe(key);
  });

  it.each([
    "",
    "unknown",
    "203.0.113",
    "203.0.113.256",
    "203.000.113.7",
    "1.2.3.4.5",
    "2001:db8::1::2",
    "2001:db8:0:1:2:3:4:5:6",
    "2001:db8:0:1:2:3:4",
    "2001:db8:0:1:2:3:4:5::",
    "12345::1",
    "2001:db8:::1",
    ":2001:db8::1",
    "g::1",
    "::ffff:1.2.3",
    "::ffff:1.2.3.4:5",
  ])("%j is not an address", (text) => {
    expect(addressKey(text)).toBeNull();
  });

  it("2001:db8:0:1::1 to ::6 are one client, and the next /64 is another", () => {
    const keys = new Set([1, 2, 3, 4, 5, 6].map((i) => addressKey(`2001:db8:0:1::${i}`)));
    expect([...keys]).toEqual(["ip:2001:db8:0:1::/64"]);
    expect(addressKey("2001:db8:0:2::1")).toBe("ip:2001:db8:0:2::/64");
  });

  it("every spelling of one address gives one key", () => {
    fc.assert(
      fc.property(
        groupsArb,
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 8 }),
        (groups, upper, pad, runStart, runLength) => {
          const canonical = addressKey(spell(groups, false, false, 0, 0));
          expect(canonical).not.toBeNull();
          expect(addressKey(spell(groups, upper, pad, runStart, runLength))).toBe(canonical);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("addresses in one /64 share a key; a different /64 gets another", () => {
    fc.assert(
      fc.property(groupsArb, groupsArb, (a, b) => {
        // Not IPv4-mapped, which is keyed as IPv4 instead.
        fc.pre(!(a.slice(0, 5).every((g) => g === 0) && a[5] === 0xffff));
        const sameNet = [...a.slice(0, 4), ...b.slice(4)];
        fc.pre(!(sameNet.slice(0, 5).every((g) => g === 0) && sameNet[5] === 0xffff));
        expect(addressKey(spell(a, false, false, 0, 0))).toBe(addressKey(spell(sameNet, true, true, 0, 0)));
        const otherNet = [...b.slice(0, 4), ...a.slice(4)];
        fc.pre(!(otherNet.slice(0, 5).every((g) => g === 0) && otherNet[5] === 0xffff));
        const differs = a.slice(0, 4).some((g, i) => g !== b[i]);
        expect(addressKey(spell(otherNet, false, false, 0, 0)) === addressKey(spell(a, false, false, 0, 0))).toBe(
          !differs,
        );
      }),
      { numRuns: 500 },
    );
  });

  it("an IPv4-mapped address is the same client as the IPv4 address", () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(addressKey(`::ffff:${ip}`)).toBe(addressKey(ip));
        expect(addressKey(`::FFFF:${ip}`)).toBe(`ip:${ip}`);
      }),
    );
  });
});

describe("clientKeyFromHeaders", () => {
  it("uses cf-connecting-ip", () => {
    expect(clientKeyFromHeaders("2001:db8:0:1::9", undefined)).toBe("ip:2001:db8:0:1::/64");
    expect(clientKeyFromHeaders("203.0.113.7", "2001:db8::1")).toBe("ip:203.0.113.7");
  });

  it("reads cf-connecting-ipv6 only behind a Pseudo IPv4 (Class E) address", () => {
    expect(clientKeyFromHeaders("240.16.3.7", "2001:db8:0:1::9")).toBe("ip:2001:db8:0:1::/64");
    expect(clientKeyFromHeaders("240.16.3.7", undefined)).toBe("ip:240.16.3.7");
    expect(clientKeyFromHeaders("240.16.3.7", "garbage")).toBe("ip:240.16.3.7");
  });

  it("no usable address is null", () => {
    expect(clientKeyFromHeaders(undefined, undefined)).toBeNull();
    expect(clientKeyFromHeaders(undefined, "2001:db8::1")).toBeNull();
    expect(clientKeyFromHeaders("not-an-ip", undefined)).toBeNull();
  });
});
