import { describe, expect, it } from "vitest";
import { CoolOff, FAILURES_BEFORE_COOL_OFF } from "../../../../workers/app/src/egress/cool-off";

const routes = [{ name: "proxy:a:1" }, { name: "relay-binding" }];

describe("route cool-off", () => {
  it(`skips a route after ${FAILURES_BEFORE_COOL_OFF} failures in a row, for the cool-off period`, () => {
    let now = 1_000;
    const coolOff = new CoolOff(() => now);
    expect(coolOff.failed("proxy:a:1", 5_000)).toBe(false);
    expect(coolOff.failed("proxy:a:1", 5_000)).toBe(false);
    expect(coolOff.failed("proxy:a:1", 5_000)).toBe(true);
    expect(coolOff.plan(routes)).toEqual({ use: [routes[1]], skipped: [routes[0]] });
    expect(coolOff.until("proxy:a:1")).toBe(6_000);
    now = 6_001;
    expect(coolOff.plan(routes).use).toEqual(routes);
    // One more failure after the cool-off sends it straight back.
    expect(coolOff.failed("proxy:a:1", 5_000)).toBe(true);
  });

  it("a success clears the count", () => {
    const coolOff = new CoolOff(() => 0);
    coolOff.failed("proxy:a:1", 5_000);
    coolOff.failed("proxy:a:1", 5_000);
    coolOff.succeeded("proxy:a:1");
    expect(coolOff.failed("proxy:a:1", 5_000)).toBe(false);
  });

  it("with every route cooling off, all are tried rather than none", () => {
    const coolOff = new CoolOff(() => 0);
    for (const r of routes) for (let i = 0; i < FAILURES_BEFORE_COOL_OFF; i++) coolOff.failed(r.name, 5_000);
    expect(coolOff.plan(routes)).toEqual({ use: routes, skipped: [] });
  });

  it("a cool-off of 0 ms turns it off", () => {
    const coolOff = new CoolOff(() => 0);
    for (let i = 0; i < 10; i++) expect(coolOff.failed("proxy:a:1", 0)).toBe(false);
    expect(coolOff.cooling("proxy:a:1")).toBe(false);
  });
});
