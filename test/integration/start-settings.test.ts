/**
 * npm start's settings split (tools/start/settings.ts) and banner (tools/start/banner.ts), as pure
 * functions over the project's real worker declarations: who gets the OpenAI key, which file is
 * read, and what the banner says about each egress route. No wrangler is run here;
 * start-proxy.test.ts drives the workers with this split's output.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chooseAppPort } from "../../tools/start/app-url.ts";
import { bannerLines } from "../../tools/start/banner.ts";
import { planSettings, projectKeys, readSettingsFile } from "../../tools/start/settings.ts";
import { ROOT } from "../helpers/build.ts";

const KEY = "sk-start-split-not-real-0042";
const PASSWORD = "s3cret-Proxy-pw";
const keys = projectKeys(ROOT);
const plan = (values: Record<string, string>, environment: Record<string, string> = {}) =>
  planSettings(keys, environment, { values, source: ".dev.vars" });
const banner = (values: Record<string, string>) => bannerLines(plan(values), { relayOnly: false }).join("\n");

describe("npm start: who gets the OpenAI key", () => {
  it("a forward-proxy route: the app gets OPENAI_API_KEY and OPENAI_BASE_URL (it calls OpenAI itself)", () => {
    const p = plan({
      OPENAI_API_KEY: KEY,
      IMAGE_GENERATION_PROVIDER: "openai",
      OPENAI_PROXY: `http://user:${PASSWORD}@127.0.0.1:3128`,
      OPENAI_BASE_URL: "http://127.0.0.1:9999",
    });
    expect(p.app).toMatchObject({
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: "http://127.0.0.1:9999",
      IMAGE_GENERATION_PROVIDER: "openai",
      OPENAI_PROXY: `http://user:${PASSWORD}@127.0.0.1:3128`,
    });
    expect(p.forProxyRoute.sort()).toEqual(["OPENAI_API_KEY", "OPENAI_BASE_URL"]);
    // No route goes through the local relay: no stand-in is started for it.
    expect(p.upstream).toBe("unused");
  });

  it("no proxy route (unset, relay:, a relay URL): the key stays with the relay", () => {
    for (const proxy of [undefined, "relay:", "https://relay.example.com"]) {
      const p = plan({ OPENAI_API_KEY: KEY, ...(proxy ? { OPENAI_PROXY: proxy } : {}) });
      expect(p.app.OPENAI_API_KEY, String(proxy)).toBeUndefined();
      expect(p.relay.OPENAI_API_KEY).toBe(KEY);
      expect(p.forProxyRoute).toEqual([]);
    }
  });

  it("exported variables count like the file's, and win over it", () => {
    const p = plan({ OPENAI_API_KEY: "sk-from-file" }, { OPENAI_API_KEY: KEY, OPENAI_PROXY: "http://127.0.0.1:3128" });
    expect(p.app.OPENAI_API_KEY).toBe(KEY);
    expect(p.used.find((u) => u.name === "OPENAI_API_KEY")).toEqual({
      name: "OPENAI_API_KEY",
      source: "environment",
      workers: ["app", "relay"],
    });
  });
});

describe("npm start: the banner", () => {
  it("names every route in order: a proxy is a proxy, then the local relay; no password, no key", () => {
    const text = banner({ OPENAI_API_KEY: KEY, OPENAI_PROXY: `http://u:${PASSWORD}@proxy.example:3128, relay:` });
    expect(text).toContain("1. forward proxy proxy.example:3128: the app calls OpenAI itself through it");
    expect(text).toContain("2. the local relay (RELAY binding) -> OpenAI (https://api.openai.com)");
    expect(text).toContain("OPENAI_API_KEY from .dev.vars -> app, relay (app: for its forward-proxy route)");
    expect(text).not.toContain("(not a URL)");
    expect(text).not.toContain("the relay at");
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(KEY);
  });

  it("a proxy route without a key, a bad entry and a relay URL are each said as such", () => {
    const text = banner({ OPENAI_PROXY: "http://127.0.0.1:3128, nonsense, https://relay.example.com" });
    expect(text).toContain("1. forward proxy 127.0.0.1:3128: NO OPENAI_API_KEY: calls through it fail");
    expect(text).toContain("2. not a valid route (the app will answer config_error naming this entry)");
    expect(text).toContain("3. a relay over the internet at relay.example.com");
    expect(text).toContain("the local relay is not used by any route");
  });

  it("a malformed percent escape in a password is labelled, not thrown, and never printed", () => {
    const text = banner({ OPENAI_API_KEY: KEY, OPENAI_PROXY: "http://alice:pa%ZZss@127.0.0.1:1, relay:" });
    expect(text).toContain("1. forward proxy 127.0.0.1:1");
    expect(text).toContain("2. the local relay");
    expect(text).not.toContain("pa%ZZss");
  });
});

describe("npm start: .dev.vars or .env", () => {
  const dirs: string[] = [];
  const dirWith = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), "start-settings-"));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("reads .env when there is no .dev.vars", () => {
    const read = readSettingsFile(dirWith({ ".env": `OPENAI_API_KEY=${KEY}\n` }));
    expect(read).toEqual({ values: { OPENAI_API_KEY: KEY }, source: ".env" });
    const p = planSettings(keys, {}, read);
    expect(p.used.find((u) => u.name === "OPENAI_API_KEY")?.source).toBe(".env");
  });

  it("with both, .dev.vars wins outright (as in wrangler dev) and the banner says .env is not read", () => {
    const read = readSettingsFile(
      dirWith({ ".env": "OPENAI_API_KEY=sk-env\nLOG_PROMPTS=true\n", ".dev.vars": "RELAY_TOKEN=t\n" }),
    );
    expect(read).toEqual({ values: { RELAY_TOKEN: "t" }, source: ".dev.vars", ignored: ".env" });
    const lines = bannerLines(planSettings(keys, {}, read), { relayOnly: false }, read);
    expect(lines[0]).toBe(".env is not read: .dev.vars exists and wins (as with wrangler dev)");
  });

  it("neither: nothing", () => {
    expect(readSettingsFile(dirWith({}))).toEqual({ values: {} });
  });
});

describe("npm start: the app's port", () => {
  it("8787 when free, else the next free one (as wrangler would), so doctor can be told which", async () => {
    expect(await chooseAppPort(async () => true)).toBe(8787);
    expect(await chooseAppPort(async (p) => p >= 8790)).toBe(8790);
  });
});
