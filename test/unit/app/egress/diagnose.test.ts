/**
 * The health checks (egress/diagnose.ts) in workerd: they never count toward a
 * route's cool-off, so a public health URL can't take a route out of service, while the same
 * failures on real calls do.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type AppConfig, parseConfig } from "../../../../workers/app/src/config";
import { diagnose, sendToOpenAI } from "../../../../workers/app/src/egress";
import { isolateCoolOff } from "../../../../workers/app/src/egress/cool-off";
import type { AppBindings } from "../../../../workers/app/src/env";
import type { Logger } from "../../../../workers/shared/log";

const quiet: Logger = { info() {}, warn() {}, error() {}, with: () => quiet, redact: (text) => text };

/** A RELAY binding whose relay is down (the fetch fails). */
function setup(route: string) {
  const down = { fetch: () => Promise.reject(new Error("relay down")) } as unknown as Fetcher;
  const bindings: AppBindings = {
    IMAGES: env.IMAGES,
    RELAY: down,
    OPENAI_PROXY: route,
    RELAY_TOKEN: "t0ken",
    EGRESS_COOLOFF_MS: "60000",
  };
  const { config, problems } = parseConfig(bindings);
  expect(problems).toEqual([]);
  return { bindings, config: config as AppConfig };
}

describe("diagnose", () => {
  it("failed checks never put a route in cool-off", async () => {
    const { bindings, config } = setup("relay:");
    for (let i = 0; i < 5; i++) {
      const checks = await diagnose(bindings, config, "req_test", 2_000);
      expect(checks).toEqual([
        expect.objectContaining({ route_name: "relay-binding", verdict: "unreachable", failure: "connect" }),
      ]);
    }
    expect(isolateCoolOff.cooling("relay-binding")).toBe(false);
  });

  it("(control) the same failures on calls do put it in cool-off", async () => {
    const { bindings, config } = setup("relay:");
    for (let i = 0; i < 3; i++) {
      const call = {
        method: "GET" as const,
        path: "/_relay/diagnostics",
        requestId: "r",
        signal: AbortSignal.timeout(2_000),
        log: quiet,
      };
      await expect(sendToOpenAI(bindings, config, call)).rejects.toThrow();
    }
    expect(isolateCoolOff.cooling("relay-binding")).toBe(true);
  });

  it("checks routes in order and stops at the first that works, each failure in words", async () => {
    const relay = {
      fetch: async () =>
        Response.json({ verdict: "ok", key_configured: true, placed: { key_accepted: true, models_status: 200 } }),
    } as unknown as Fetcher;
    const bindings: AppBindings = {
      IMAGES: env.IMAGES,
      RELAY: relay,
      OPENAI_PROXY: "http://127.0.0.1:1, relay:, https://never.example",
      RELAY_TOKEN: "t",
      OPENAI_API_KEY: "sk-app",
    };
    const parsed = parseConfig(bindings);
    expect(parsed.problems).toEqual([]);
    const config = parsed.config as AppConfig;
    const checks = await diagnose(bindings, config, "req_test", 2_000);
    expect(checks.map((c) => [c.route_name, c.verdict])).toEqual([
      ["proxy:127.0.0.1:1", "unreachable"],
      ["relay-binding", "ok"],
    ]);
    expect(checks[0]).toMatchObject({ failure: "connect", error: "could not connect to the proxy 127.0.0.1:1" });
    expect(checks[1]).toMatchObject({ key_accepted: true, models_status: 200, reachable: true });
  });
});
