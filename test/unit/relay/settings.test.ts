import { describe, expect, it } from "vitest";
import type { RelayEnv } from "../../../workers/relay/src/env";
import { misconfiguredMessage, parseRelaySettings, relaySettings } from "../../../workers/relay/src/settings";

describe("the relay's settings", () => {
  it("uses the defaults when nothing is set", () => {
    expect(parseRelaySettings({})).toEqual({
      problems: [],
      settings: {
        openaiBaseUrl: "https://api.openai.com",
        maxBodyBytes: 50 * 1024 * 1024,
        upstreamTimeoutMs: 300_000,
        regionFallback: true,
        logAllCalls: false,
      },
    });
  });

  it("reads every setting; blanks are unset", () => {
    const { settings } = parseRelaySettings({
      OPENAI_BASE_URL: "http://127.0.0.1:9000/openai/",
      RELAY_MAX_BODY_BYTES: "1024",
      UPSTREAM_TIMEOUT_MS: " 5000 ",
      REGION_FALLBACK: "OFF",
      LOG_ALL_CALLS: "on",
    });
    expect(settings).toEqual({
      openaiBaseUrl: "http://127.0.0.1:9000/openai",
      maxBodyBytes: 1024,
      upstreamTimeoutMs: 5000,
      regionFallback: false,
      logAllCalls: true,
    });
    expect(parseRelaySettings({ RELAY_MAX_BODY_BYTES: "  " }).settings?.maxBodyBytes).toBe(50 * 1024 * 1024);
  });

  it.each([
    ["OPENAI_BASE_URL", "ftp://V4L.example"],
    ["OPENAI_BASE_URL", "https://user:V4L@api.example"],
    ["RELAY_MAX_BODY_BYTES", "lots-V4L"],
    ["RELAY_MAX_BODY_BYTES", "0"],
    ["UPSTREAM_TIMEOUT_MS", "1.5"],
    ["REGION_FALLBACK", "no-V4L"],
    ["LOG_ALL_CALLS", "yes-V4L"],
  ] as const)("a bad %s (%j) is a problem naming it, never a silent default, never the value", (setting, value) => {
    const { settings, problems } = parseRelaySettings({ [setting]: value } as RelayEnv);
    expect(settings).toBeUndefined();
    expect(problems.map((p) => p.setting)).toEqual([setting]);
    const message = misconfiguredMessage(problems);
    expect(message).toMatch(new RegExp(`^The relay is misconfigured: ${setting} must be `));
    expect(message).not.toContain("V4L");
  });

  it("reads TOML booleans and numbers as their text, and names a non-text value, never falling back", () => {
    const env = {
      REGION_FALLBACK: false,
      LOG_ALL_CALLS: true,
      UPSTREAM_TIMEOUT_MS: 9000,
      RELAY_MAX_BODY_BYTES: {},
    } as unknown as RelayEnv;
    const { settings, problems } = parseRelaySettings(env);
    expect(settings).toBeUndefined();
    expect(problems).toEqual([
      { setting: "RELAY_MAX_BODY_BYTES", problem: "must be text, not a binding" },
      { setting: "REGION_FALLBACK", problem: 'must be "on" or "off"' },
      { setting: "LOG_ALL_CALLS", problem: 'must be "on" or "off"' },
    ]);
    const numbers = parseRelaySettings({ UPSTREAM_TIMEOUT_MS: 9000 } as unknown as RelayEnv);
    expect(numbers.settings?.upstreamTimeoutMs).toBe(9000);
  });

  it("collects every problem at once", () => {
    const { problems } = parseRelaySettings({
      RELAY_MAX_BODY_BYTES: "x",
      UPSTREAM_TIMEOUT_MS: "y",
      LOG_ALL_CALLS: "z",
    });
    expect(problems.map((p) => p.setting)).toEqual(["RELAY_MAX_BODY_BYTES", "UPSTREAM_TIMEOUT_MS", "LOG_ALL_CALLS"]);
  });

  it("is parsed once per env object", () => {
    const env: RelayEnv = { UPSTREAM_TIMEOUT_MS: "x" };
    expect(relaySettings(env)).toBe(relaySettings(env));
  });
});
