import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEFAULTS, getConfig, parseConfig } from "../../../workers/app/src/config";
import type { AppBindings } from "../../../workers/app/src/env";
import { ApiError } from "../../../workers/app/src/errors";

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
});
