import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEFAULTS, getConfig, loadConfig, parseConfig } from "../../../workers/app/src/config";
import type { AppBindings } from "../../../workers/app/src/env";
import { ApiError } from "../../../workers/app/src/errors";
import { DEFAULT_PRICES } from "../../../workers/app/src/guard/pricing";

/** Never called: only the presence of the binding matters to the config. */
const RELAY = { fetch: () => Promise.reject(new Error("not used")) } as unknown as Fetcher;

const bindings = (settings: Partial<AppBindings> = {}): AppBindings => ({ IMAGES: env.IMAGES, RELAY, ...settings });

const settingsWithProblems = (settings: Partial<AppBindings>) =>
  parseConfig(bindings(settings)).problems.map((p) => p.setting);

/** The config_error getConfig throws for these settings. */
function configError(settings: Partial<AppBindings>): ApiError {
  try {
    getConfig(bindings(settings));
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("getConfig did not throw");
}

describe("parseConfig", () => {
  it("uses the defaults with only the RELAY binding", () => {
    const { config, problems } = parseConfig(bindings());
    expect(problems).toEqual([]);
    expect(config).toEqual({
      provider: "openai",
      defaultModel: "gpt-image-1-mini",
      allowedModels: [...DEFAULTS.allowedModels],
      egress: {
        routes: [{ kind: "binding", name: "relay-binding" }],
        openaiBaseUrl: "https://api.openai.com",
        openaiApiKey: undefined,
        connectTimeoutMs: 10_000,
        headersTimeoutMs: 300_000,
        idleTimeoutMs: 60_000,
        retryBudgetMs: 30_000,
        coolOffMs: 60_000,
      },
      relayToken: undefined,
      logPrompts: false,
      upstreamTimeoutMs: 300_000,
      guard: {
        accessMode: "open",
        allowedOrigins: [],
        perMinute: 10,
        perDay: 100,
        dailyBudgetUsd: undefined,
        prices: DEFAULT_PRICES,
      },
      streamHeartbeatMs: 10_000,
      generationTtlMs: 24 * 3_600_000,
      queue: { imagesPerMinute: undefined, maxConcurrent: undefined, maxWaitS: 300, maxLength: 1000, windowMs: 60_000 },
    });
  });

  it("reads models, prompt logging and the timeout", () => {
    const { config } = parseConfig(
      bindings({
        ALLOWED_MODELS: " dall-e-3 , gpt-image-1,, ",
        DEFAULT_MODEL: "dall-e-3",
        LOG_PROMPTS: "TRUE",
        UPSTREAM_TIMEOUT_MS: "120000",
      }),
    );
    expect(config?.allowedModels).toEqual(["dall-e-3", "gpt-image-1"]);
    expect(config?.defaultModel).toBe("dall-e-3");
    expect(config?.logPrompts).toBe(true);
    expect(config?.upstreamTimeoutMs).toBe(120_000);
  });

  it("refuses a provider other than openai, naming the setting", () => {
    const { config, problems } = parseConfig(bindings({ IMAGE_GENERATION_PROVIDER: "stability" }));
    expect(config).toBeUndefined();
    expect(problems.map((p) => p.setting)).toEqual(["IMAGE_GENERATION_PROVIDER"]);
  });

  it("refuses a DEFAULT_MODEL that is not allowed", () => {
    expect(settingsWithProblems({ DEFAULT_MODEL: "dall-e-3" })).toEqual(["DEFAULT_MODEL"]);
    expect(settingsWithProblems({ ALLOWED_MODELS: "gpt-image-2" })).toEqual(["DEFAULT_MODEL"]);
  });

  it.each(["abc", "0", "-5", "1.5"])("refuses UPSTREAM_TIMEOUT_MS = %s", (value) => {
    expect(settingsWithProblems({ UPSTREAM_TIMEOUT_MS: value })).toEqual(["UPSTREAM_TIMEOUT_MS"]);
  });

  it("reports every problem at once", () => {
    expect(
      settingsWithProblems({ IMAGE_GENERATION_PROVIDER: "x", DEFAULT_MODEL: "nope", RELAY: undefined }).sort(),
    ).toEqual(["DEFAULT_MODEL", "IMAGE_GENERATION_PROVIDER", "RELAY"]);
  });
});

describe("parseConfig: each bad setting is a problem naming it, never its value", () => {
  it.each([
    ["IMAGE_GENERATION_PROVIDER", "stability-V4L"],
    ["UPSTREAM_TIMEOUT_MS", "soon-V4L"],
    ["LOG_PROMPTS", "yes-V4L"],
    ["OPENAI_BASE_URL", "ftp://V4L.example"],
    ["EGRESS_CONNECT_TIMEOUT_MS", "0"],
    ["EGRESS_HEADERS_TIMEOUT_MS", "-1"],
    ["EGRESS_IDLE_TIMEOUT_MS", "1.5"],
    ["EGRESS_RETRY_BUDGET_MS", "V4L"],
    ["EGRESS_COOLOFF_MS", "-5"],
    ["ACCESS_MODE", "closed-V4L"],
    ["RATE_LIMIT_PER_MINUTE", "abc"],
    ["RATE_LIMIT_PER_DAY", "-1"],
    ["DAILY_BUDGET_USD", "lots-V4L"],
    ["PRICE_TABLE", "{V4L"],
    ["PRICE_TABLE", "[1]"],
    ["PRICE_TABLE", '{"gpt-image-1":{"per_image":"V4L"}}'],
    ["STREAM_HEARTBEAT_MS", "fast-V4L"],
    ["OPENAI_PROXY", "http://alice:pa%ZZss-V4L@host:1, relay:"],
    ["OPENAI_IMAGES_PER_MINUTE", "0"],
    ["MAX_CONCURRENT_GENERATIONS", "two-V4L"],
    ["QUEUE_MAX_WAIT_S", "-1"],
    ["QUEUE_MAX_LENGTH", "1.5"],
    ["QUEUE_WINDOW_S", "0"],
  ])("%s = %j", (setting, value) => {
    const { config, problems } = parseConfig(bindings({ [setting]: value }));
    expect(config).toBeUndefined();
    expect(problems.map((p) => p.setting)).toEqual([setting]);
    const err = configError({ [setting]: value });
    expect(err.code).toBe("config_error");
    expect(err.message).toMatch(new RegExp(`^The server is misconfigured: ${setting} `));
    for (const text of [JSON.stringify(problems), err.message]) {
      expect(text).not.toContain("V4L");
      expect(text).not.toContain(value);
    }
  });

  it("a malformed %-escape in a proxy's password names the entry by position", () => {
    const { problems } = parseConfig(
      bindings({ OPENAI_PROXY: "relay:, http://alice:pa%ZZss@host:1", OPENAI_API_KEY: "k" }),
    );
    expect(problems).toEqual([
      {
        setting: "OPENAI_PROXY",
        problem: expect.stringMatching(/^entry 2 has a user name or password with a malformed %-escape/),
      },
    ]);
  });

  it("collects the problems of every area at once (egress, guards, stream)", () => {
    expect(
      settingsWithProblems({
        EGRESS_IDLE_TIMEOUT_MS: "x",
        RATE_LIMIT_PER_MINUTE: "abc",
        ACCESS_MODE: "x",
        PRICE_TABLE: "{",
        STREAM_HEARTBEAT_MS: "x",
        DEFAULT_MODEL: "nope",
      }).sort(),
    ).toEqual([
      "ACCESS_MODE",
      "DEFAULT_MODEL",
      "EGRESS_IDLE_TIMEOUT_MS",
      "PRICE_TABLE",
      "RATE_LIMIT_PER_MINUTE",
      "STREAM_HEARTBEAT_MS",
    ]);
  });

  it("reads the guard and stream settings, TOML numbers included", () => {
    const { config } = parseConfig(
      bindings({
        ACCESS_MODE: "tokens",
        ALLOWED_ORIGINS: " https://a.example/ , ,https://b.example",
        RATE_LIMIT_PER_MINUTE: 0 as unknown as string,
        RATE_LIMIT_PER_DAY: "7",
        DAILY_BUDGET_USD: "2.5",
        PRICE_TABLE: '{"gpt-image-1":{"per_image":0.5}}',
        STREAM_HEARTBEAT_MS: "50",
      }),
    );
    expect(config?.guard).toMatchObject({
      accessMode: "tokens",
      allowedOrigins: ["https://a.example", "https://b.example"],
      perMinute: 0,
      perDay: 7,
      dailyBudgetUsd: 2.5,
    });
    expect(config?.guard.prices["gpt-image-1"]?.per_image).toBe(0.5);
    expect(config?.streamHeartbeatMs).toBe(50);
  });
});

describe("parseConfig: OPENAI_PROXY", () => {
  it.each([undefined, "", "  ", "relay:"])("%j uses the RELAY binding", (proxy) => {
    expect(parseConfig(bindings({ OPENAI_PROXY: proxy })).config?.egress.routes).toEqual([
      { kind: "binding", name: "relay-binding" },
    ]);
  });

  it.each([undefined, "relay:"])("%j without the RELAY binding is a RELAY problem", (proxy) => {
    const { config, problems } = parseConfig(bindings({ OPENAI_PROXY: proxy, RELAY: undefined }));
    expect(config).toBeUndefined();
    expect(problems.map((p) => p.setting)).toEqual(["RELAY"]);
  });

  it("an https relay URL needs RELAY_TOKEN", () => {
    expect(settingsWithProblems({ OPENAI_PROXY: "https://relay.example.com" })).toEqual(["RELAY_TOKEN"]);
  });

  it("an https relay URL with RELAY_TOKEN is used without the binding, trailing slashes dropped", () => {
    const { config } = parseConfig(
      bindings({ OPENAI_PROXY: "https://relay.example.com/prefix/", RELAY_TOKEN: "t0ken", RELAY: undefined }),
    );
    expect(config?.egress.routes).toEqual([
      { kind: "relay_url", name: "relay-url:relay.example.com", baseUrl: "https://relay.example.com/prefix" },
    ]);
    expect(config?.relayToken).toBe("t0ken");
  });

  it.each([
    ["http URL", "http://relay.example.com", "relay.example.com"],
    ["URL with user:password", "https://admin:hunter2-s3cret@relay.example.com", "hunter2-s3cret"],
    ["URL with a user name only", "https://sk-proj-abcdef@relay.example.com", "sk-proj-abcdef"],
    ["URL with a query", "https://relay.example.com/?token=q-s3cret", "q-s3cret"],
    ["URL with a fragment", "https://relay.example.com/#f-s3cret", "f-s3cret"],
    ["garbage", "not a url g-s3cret", "g-s3cret"],
    ["host without scheme", "relay.example.com:443", "relay.example.com"],
  ])("refuses a %s, naming OPENAI_PROXY but not its value", (_label, proxy, secret) => {
    const settings = { OPENAI_PROXY: proxy, RELAY_TOKEN: "t0ken" };
    const { config, problems } = parseConfig(bindings(settings));
    expect(config).toBeUndefined();
    expect(problems.map((p) => p.setting)).toEqual(["OPENAI_PROXY"]);
    expect(problems[0]?.problem).not.toContain(secret);

    const err = configError(settings);
    expect(err.message).toContain("OPENAI_PROXY");
    expect(err.message).not.toContain(secret);
  });
});

describe("getConfig", () => {
  it("throws config_error (500) naming each bad setting", () => {
    const err = configError({ IMAGE_GENERATION_PROVIDER: "stability", DEFAULT_MODEL: "nope" });
    expect(err.code).toBe("config_error");
    expect(err.status).toBe(500);
    expect(err.message).toContain("IMAGE_GENERATION_PROVIDER");
    expect(err.message).toContain("DEFAULT_MODEL");
  });

  it("never puts RELAY_TOKEN's value in the error", () => {
    const err = configError({ RELAY_TOKEN: "rt-s3cret-value", RELAY: undefined });
    expect(err.message).not.toContain("rt-s3cret-value");
  });

  it("returns the parsed config, the same object for the same env", () => {
    const appEnv = bindings({ DEFAULT_MODEL: "gpt-image-2" });
    const first = getConfig(appEnv);
    expect(first.defaultModel).toBe("gpt-image-2");
    expect(getConfig(appEnv)).toBe(first);
  });

  it("parses a bad env once too: the same problems object for the same env", () => {
    const appEnv = bindings({ RATE_LIMIT_PER_MINUTE: "abc" });
    expect(loadConfig(appEnv)).toBe(loadConfig(appEnv));
  });
});
