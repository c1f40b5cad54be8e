import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getConfig, parseConfig } from "../../../../workers/app/src/config";
import { describeRoutes, parseRoutes } from "../../../../workers/app/src/egress/routes";
import type { AppBindings } from "../../../../workers/app/src/env";
import { ApiError } from "../../../../workers/app/src/errors";

const RELAY = { fetch: () => Promise.reject(new Error("not used")) } as unknown as Fetcher;
const bindings = (settings: Partial<AppBindings>): AppBindings => ({ IMAGES: env.IMAGES, RELAY, ...settings });

describe("OPENAI_PROXY as a list of routes", () => {
  it("keeps the order and names each route without credentials", () => {
    const { routes, problems } = parseRoutes(
      " http://alice:s3cret@proxy.example.net:3128 , https://relay.example.com/base/ ,relay:",
    );
    expect(problems).toEqual([]);
    expect(routes).toEqual([
      {
        kind: "proxy",
        name: "proxy:proxy.example.net:3128",
        host: "proxy.example.net",
        port: 3128,
        basicAuth: btoa("alice:s3cret"),
      },
      { kind: "relay_url", name: "relay-url:relay.example.com", baseUrl: "https://relay.example.com/base" },
      { kind: "binding", name: "relay-binding" },
    ]);
    expect(describeRoutes(routes)).toBe(
      "proxy proxy.example.net:3128, then relay at relay.example.com, then relay binding",
    );
  });

  it("decodes percent-encoded credentials (passwords with @ or :) and keeps UTF-8", () => {
    const [route] = parseRoutes("http://bob:p%40ss%3Aw%C3%B6rd@10.0.0.1:8080").routes;
    expect(route).toMatchObject({ kind: "proxy", host: "10.0.0.1", port: 8080 });
    const auth = route?.kind === "proxy" ? route.basicAuth : undefined;
    const bytes = Uint8Array.from(atob(auth ?? ""), (c) => c.charCodeAt(0));
    expect(new TextDecoder().decode(bytes)).toBe("bob:p@ss:wörd");
  });

  it("takes IPv6 proxies and credential-less proxies", () => {
    expect(parseRoutes("http://[::1]:3128").routes).toEqual([
      { kind: "proxy", name: "proxy:[::1]:3128", host: "::1", port: 3128 },
    ]);
  });

  it.each([
    ["an http proxy without a port", "http://proxy.example.net", "without an explicit port"],
    ["an http proxy with a path", "http://proxy.example.net:3128/x", "with a path"],
    ["a relay URL with credentials", "https://u:p@relay.example.com", "credentials"],
    ["a query", "https://relay.example.com/?a=1", "query"],
    ["another scheme", "socks5://proxy.example.net:1080", "unsupported scheme"],
    ["garbage", "proxy.example.net:3128", "unsupported scheme"],
    ["an empty entry", "relay:,,relay:", "is empty"],
  ])("refuses %s", (_label, value, words) => {
    const { problems } = parseRoutes(value);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.problem).toContain(words);
  });

  it("names the bad entry by position, never echoing its text", () => {
    const secret = "hunter2-Pa55";
    const settings = { OPENAI_PROXY: `relay:,http://admin:${secret}@proxy.example.net`, OPENAI_API_KEY: "sk-x" };
    const { problems } = parseConfig(bindings(settings));
    expect(problems).toEqual([{ setting: "OPENAI_PROXY", problem: expect.stringContaining("entry 2 ") }]);
    let err: unknown;
    try {
      getConfig(bindings(settings));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe("config_error");
    expect((err as ApiError).message).toContain("OPENAI_PROXY entry 2");
    expect((err as ApiError).message).not.toContain(secret);
    expect((err as ApiError).message).not.toContain("proxy.example.net");
  });
});

describe("egress settings", () => {
  it("a proxy route needs OPENAI_API_KEY; the key is kept only then", () => {
    expect(parseConfig(bindings({ OPENAI_PROXY: "http://p.example:3128" })).problems.map((p) => p.setting)).toEqual([
      "OPENAI_API_KEY",
    ]);
    const withKey = parseConfig(bindings({ OPENAI_PROXY: "http://p.example:3128", OPENAI_API_KEY: "sk-k" }));
    expect(withKey.config?.egress.openaiApiKey).toBe("sk-k");
    expect(parseConfig(bindings({ OPENAI_API_KEY: "sk-k" })).config?.egress.openaiApiKey).toBeUndefined();
  });

  it("defaults: 10 s connect, headers as UPSTREAM_TIMEOUT_MS, 60 s idle, 30 s retry budget, 60 s cool-off", () => {
    const egress = parseConfig(bindings({ UPSTREAM_TIMEOUT_MS: "120000" })).config?.egress;
    expect(egress).toMatchObject({
      openaiBaseUrl: "https://api.openai.com",
      connectTimeoutMs: 10_000,
      headersTimeoutMs: 120_000,
      idleTimeoutMs: 60_000,
      retryBudgetMs: 30_000,
      coolOffMs: 60_000,
    });
  });

  it("reads each limit, and names a bad one", () => {
    const egress = parseConfig(
      bindings({
        EGRESS_CONNECT_TIMEOUT_MS: "500",
        EGRESS_HEADERS_TIMEOUT_MS: "700",
        EGRESS_IDLE_TIMEOUT_MS: "900",
        EGRESS_RETRY_BUDGET_MS: "0",
        EGRESS_COOLOFF_MS: "0",
        OPENAI_BASE_URL: "http://127.0.0.1:9999/prefix/",
      }),
    ).config?.egress;
    expect(egress).toMatchObject({
      connectTimeoutMs: 500,
      headersTimeoutMs: 700,
      idleTimeoutMs: 900,
      retryBudgetMs: 0,
      coolOffMs: 0,
      openaiBaseUrl: "http://127.0.0.1:9999/prefix",
    });
    const bad = parseConfig(
      bindings({ EGRESS_IDLE_TIMEOUT_MS: "0", OPENAI_BASE_URL: "ftp://x", EGRESS_COOLOFF_MS: "-1" }),
    );
    expect(bad.problems.map((p) => p.setting).sort()).toEqual([
      "EGRESS_COOLOFF_MS",
      "EGRESS_IDLE_TIMEOUT_MS",
      "OPENAI_BASE_URL",
    ]);
  });
});
