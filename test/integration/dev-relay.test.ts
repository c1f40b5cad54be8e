/** The pieces of `npm run dev:relay` that need no wrangler: where it listens and what it prints. */
import { describe, expect, it } from "vitest";
import { howToCall, relayListen, throwawayToken } from "../../tools/start/relay-only.ts";

describe("dev:relay", () => {
  it("listens on 8788 unless told otherwise", () => {
    expect(relayListen([])).toEqual({ args: ["--port", "8788"], url: "http://localhost:8788" });
    expect(relayListen(["--port", "9001"])).toEqual({ args: ["--port", "9001"], url: "http://localhost:9001" });
    expect(relayListen(["--port=9002", "--ip", "0.0.0.0"]).url).toBe("http://localhost:9002");
    expect(relayListen(["--ip", "127.0.0.1"]).url).toBe("http://127.0.0.1:8788");
  });

  it("makes up a fresh, header-safe token each run", () => {
    const a = throwawayToken();
    expect(a).toMatch(/^dev-relay-[A-Za-z0-9_-]{32}$/);
    expect(throwawayToken()).not.toBe(a);
  });

  it("prints a throwaway token in every snippet", () => {
    const text = howToCall({
      url: "http://localhost:8788",
      throwaway: "dev-relay-abc",
      upstream: "stand-in",
      relayHasKey: false,
    }).join("\n");
    expect(text).toContain('curl -sS http://localhost:8788/v1/images/generations -H "X-Relay-Token: dev-relay-abc"');
    expect(text).toContain('baseURL: "http://localhost:8788/v1"');
    expect(text).toContain('"X-Relay-Token": "dev-relay-abc"');
    expect(text).toContain("RELAY_TOKEN=dev-relay-abc npm run doctor -- --relay http://localhost:8788");
  });

  it("never prints the operator's own token, only where it came from", () => {
    const lines = howToCall({
      url: "http://localhost:8788",
      tokenSource: ".dev.vars",
      upstream: "openai",
      relayHasKey: true,
    });
    const text = lines.join("\n");
    expect(text).toContain("from .dev.vars");
    expect(text).toContain('-H "X-Relay-Token: $RELAY_TOKEN"');
    expect(text).toContain('"X-Relay-Token": process.env.RELAY_TOKEN');
    expect(text).toContain("the relay sends its own OPENAI_API_KEY");
  });
});
