/**
 * `npm run doctor` (tools/doctor.ts) as an operator runs it: a child process against a running
 * stack, judged by its exit code and the key phrases of what it prints. One stack per scenario.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenAIStandIn } from "../../tools/openai-stand-in/server.ts";
import { APP_URL_FILE, type AppUrlState, writeAppUrl } from "../../tools/start/app-url.ts";
import { ROOT } from "../helpers/build.ts";
import { type CompatibleServer, compatibleServer } from "../helpers/compatible-server.ts";
import { type Stack, type StackOptions, startStack, TEST_KEY } from "../helpers/stack.ts";
import { startTinyproxy, type Tinyproxy } from "../helpers/tinyproxy.ts";

const TOKEN = "doctor-test-token-5f2c";

interface Run {
  code: number | null;
  out: string;
}

/** Runs the doctor; `token` is its RELAY_TOKEN ("" = none, so .dev.vars is not read either). */
function doctor(args: string[], token = TOKEN): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, "tools", "doctor.ts"), ...args], {
      cwd: ROOT,
      env: { ...process.env, RELAY_TOKEN: token, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      out += chunk;
    });
    child.once("error", fail);
    child.once("close", (code) => done({ code, out }));
  });
}

/** One stack for the tests of a describe block, and the app's URL as Miniflare serves it. */
function useStack(options: StackOptions) {
  const ctx = {} as { stack: Stack; appUrl: string };
  beforeAll(async () => {
    ctx.stack = await startStack(options);
    ctx.appUrl = (await ctx.stack.mf.ready).href.replace(/\/$/, "");
  });
  afterAll(() => ctx.stack?.stop());
  return ctx;
}

/** Nothing of the secrets may show, whatever the verdict. */
function expectNoSecrets(run: Run, ...secrets: string[]) {
  for (const secret of [TOKEN, TEST_KEY, ...secrets]) expect(run.out).not.toContain(secret);
}

describe("doctor: healthy stack", () => {
  const s = useStack({ relayVars: { RELAY_TOKEN: TOKEN }, appVars: { RELAY_TOKEN: TOKEN } });

  it("relay: where calls leave from, key configured and accepted; exit 0", async () => {
    const run = await doctor(["--relay", s.stack.relayUrl]);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain("OK: calls leave from US (IAD), OpenAI accepts them; key configured and accepted");
    expectNoSecrets(run);
  });

  it("a bare URL is a relay, and a pasted client baseURL (/v1) means the same relay", async () => {
    const run = await doctor([`${s.stack.relayUrl}/v1`]);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain(`${s.stack.relayUrl}/_relay/diagnostics`);
  });

  it("a wrong RELAY_TOKEN: refused, says the tokens differ; exit 1", async () => {
    const run = await doctor(["--relay", s.stack.relayUrl], "not-the-relays-token");
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain("REFUSED");
    expect(run.out).toContain("differs from the relay's");
    expectNoSecrets(run, "not-the-relays-token");
  });

  it("no RELAY_TOKEN: says one is required and where to set it; exit 1", async () => {
    const run = await doctor(["--relay", s.stack.relayUrl], "");
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain("requires a token");
    expect(run.out).toContain("X-Relay-Token: none");
  });

  it("app: health ok through the binding; exit 0", async () => {
    const run = await doctor(["--app", s.appUrl]);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain("OK: the app is configured, reaches the relay (relay binding)");
    expectNoSecrets(run);
  });

  it("no URL: the app of the running npm start, on the port it wrote to .wrangler/app-url.json", async () => {
    // Miniflare's port is random, as a `npm start -- --port N` would be; this process plays npm start.
    const run = await withAppUrl({ url: s.appUrl, pid: process.pid }, () => doctor([]));
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain(`App health: ${s.appUrl}/api/health`);
    expect(s.appUrl).not.toContain(":8787");
  });

  it("no URL and the npm start that wrote the file is gone: the default :8787", async () => {
    const dead = await deadPid();
    const run = await withAppUrl({ url: s.appUrl, pid: dead }, () => doctor([]));
    expect(run.out).toContain("App health: http://localhost:8787/api/health");
  });

  it("a URL ending in /api/health is an app", async () => {
    const run = await doctor([`${s.appUrl}/api/health`]);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain("App health:");
  });

  it("the app's URL given as a relay: not a relay; exit 1", async () => {
    const run = await doctor(["--relay", s.appUrl]);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain("NOT A RELAY");
  });
});

describe("doctor: region blocked", () => {
  const s = useStack({
    relayVars: { RELAY_TOKEN: TOKEN },
    appVars: { RELAY_TOKEN: TOKEN },
    standIn: { country: "RU" },
  });

  it("relay: the location seen, the fallback's state and the placement fix; exit 1", async () => {
    const run = await doctor(["--relay", s.stack.relayUrl]);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain("REGION BLOCKED: OpenAI refuses calls from where the relay's calls leave: RU (DME)");
    expect(run.out).toContain("Fallback egress (wnam, leaves from RU (DME)): refused as well");
    expect(run.out).toContain("[placement]");
    expect(run.out).toContain('region = "aws:us-east-1"');
    expect(run.out).toContain("npx wrangler deploy -c workers/relay/wrangler.toml");
    expect(run.out).toContain("Keep REGION_FALLBACK on");
    expect(run.out).toContain(`Re-run: npm run doctor -- --relay ${s.stack.relayUrl}`);
  });

  it("app: region blocked, with the same advice; exit 1", async () => {
    const run = await doctor(["--app", s.appUrl]);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain("REGION BLOCKED");
    expect(run.out).toContain('region = "aws:us-east-1"');
  });
});

describe("doctor: upstream unreachable", () => {
  const s = useStack({
    relayVars: { RELAY_TOKEN: TOKEN, OPENAI_BASE_URL: "http://127.0.0.1:9" },
    appVars: { RELAY_TOKEN: TOKEN },
  });

  it("relay: cannot reach OpenAI, check OPENAI_BASE_URL; exit 1", async () => {
    const run = await doctor(["--relay", s.stack.relayUrl]);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain("UNREACHABLE: the relay could not reach OpenAI");
    expect(run.out).toContain("OPENAI_BASE_URL");
  });

  it("app: reaches the relay, which cannot reach OpenAI; exit 1", async () => {
    const run = await doctor(["--app", s.appUrl]);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain("the relay cannot reach OpenAI");
  });
});

describe("doctor: key rejected, app and relay tokens differ", () => {
  const wrongKey = "sk-wrong-key-000000000000";
  const s = useStack({
    relayVars: { RELAY_TOKEN: TOKEN, OPENAI_API_KEY: wrongKey },
    appVars: { RELAY_TOKEN: "the-apps-own-token" },
  });

  it("relay: key rejected, how to set it, the key never shown; exit 1", async () => {
    const run = await doctor(["--relay", s.stack.relayUrl]);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain("KEY REJECTED");
    expect(run.out).toContain("npx wrangler secret put OPENAI_API_KEY -c workers/relay/wrangler.toml");
    expectNoSecrets(run, wrongKey, "sk-wrong");
  });

  it("app: the relay refuses the app, RELAY_TOKEN differs; exit 1", async () => {
    const run = await doctor(["--app", s.appUrl]);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain("RELAY UNREACHABLE");
    expect(run.out).toContain("RELAY_TOKEN is missing or differs");
    expectNoSecrets(run, "the-apps-own-token");
  });
});

describe("doctor: the app's health sees a rejected key", () => {
  const wrongKey = "sk-wrong-key-111111111111";
  const s = useStack({ relayVars: { OPENAI_API_KEY: wrongKey } });

  it("app: key rejected through the app's health; exit 1", async () => {
    const health = await s.stack.app("/api/health");
    expect(health.status).toBe(503);
    expect((await health.json()).status).toBe("key_rejected");
    const run = await doctor(["--app", s.appUrl], "");
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain("KEY REJECTED");
    expectNoSecrets(run, wrongKey, "sk-wrong");
  });
});

describe("doctor: a keyless upstream (npm start's stand-in)", () => {
  const s = useStack({ relayVars: { OPENAI_API_KEY: "" }, standIn: { apiKey: undefined } });

  it("app: OK, the upstream needs no key; exit 0", async () => {
    const run = await doctor(["--app", s.appUrl], "");
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain("needs none");
  });
});

describe("doctor: app misconfigured", () => {
  const s = useStack({ appVars: { DEFAULT_MODEL: "dall-e-3", UPSTREAM_TIMEOUT_MS: "soon" } });

  it("lists every problem by setting; exit 1", async () => {
    const run = await doctor(["--app", s.appUrl]);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain("MISCONFIGURED");
    expect(run.out).toContain("- DEFAULT_MODEL: must be one of ALLOWED_MODELS");
    expect(run.out).toContain("- UPSTREAM_TIMEOUT_MS:");
  });
});

describe("doctor: a server without GET /v1/models (an OpenAI-compatible one)", () => {
  const ctx = {} as { upstream: CompatibleServer; stack: Stack; appUrl: string };
  beforeAll(async () => {
    ctx.upstream = await compatibleServer(404);
    ctx.stack = await startStack({
      relayVars: { OPENAI_BASE_URL: ctx.upstream.url, RELAY_TOKEN: TOKEN },
      appVars: { RELAY_TOKEN: TOKEN },
    });
    ctx.appUrl = (await ctx.stack.mf.ready).href.replace(/\/$/, "");
  });
  afterAll(async () => {
    await ctx.stack?.stop();
    await ctx.upstream?.stop();
  });

  it("app: WARNING, the key not confirmed (HTTP 404); exit 0", async () => {
    const run = await doctor(["--app", ctx.appUrl]);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain("WARNING: generation can work through the relay (relay binding), but:");
    expect(run.out).toContain("the key was not confirmed: GET /v1/models answered 404");
    expect(run.out).not.toContain("KEY REJECTED");
  });

  it("relay: WARNING, the key not confirmed; exit 0", async () => {
    const run = await doctor(["--relay", ctx.stack.relayUrl]);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain("WARNING: calls leave from");
    expect(run.out).toContain("the key was not confirmed: GET /v1/models got HTTP 404");
  });
});

describe("doctor: a relay with a bad setting", () => {
  const s = useStack({
    relayVars: { RELAY_TOKEN: TOKEN, UPSTREAM_TIMEOUT_MS: "soon" },
    appVars: { RELAY_TOKEN: TOKEN },
  });

  it("app and relay: MISCONFIGURED, the relay's setting by name; exit 1", async () => {
    for (const args of [
      ["--app", s.appUrl],
      ["--relay", s.stack.relayUrl],
    ]) {
      const run = await doctor(args);
      expect(run.code, run.out).toBe(1);
      expect(run.out).toContain("MISCONFIGURED");
      expect(run.out).toContain("- UPSTREAM_TIMEOUT_MS: must be a positive whole number");
      expect(run.out).not.toContain("soon");
    }
  });
});

describe("doctor: a forward-proxy route (tinyproxy)", () => {
  const USER = "doctor-user";
  const PASSWORD = "doctor-Pa55word-s3cret";
  const ctx = {} as {
    upstream: OpenAIStandIn;
    refused: OpenAIStandIn;
    proxy: Tinyproxy;
    stacks: Stack[];
    closedPort: number;
  };
  beforeAll(async () => {
    ctx.upstream = await new OpenAIStandIn({ apiKey: TEST_KEY }).start();
    ctx.refused = await new OpenAIStandIn({ apiKey: TEST_KEY, country: "RU" }).start();
    ctx.closedPort = await freePort();
    const ports = [ctx.upstream.url, ctx.refused.url].map((u) => Number(new URL(u).port));
    ctx.proxy = await startTinyproxy({ user: USER, password: PASSWORD, connectPorts: [...ports, ctx.closedPort] });
    ctx.stacks = [];
  });
  afterAll(async () => {
    for (const stack of ctx.stacks) await stack.stop();
    await ctx.proxy?.stop();
    await ctx.refused?.stop();
    await ctx.upstream?.stop();
  });
  const appWith = async (appVars: Record<string, string>) => {
    const stack = await startStack({ appVars: { OPENAI_API_KEY: TEST_KEY, ...appVars } });
    ctx.stacks.push(stack);
    return (await stack.mf.ready).href.replace(/\/$/, "");
  };

  it("wrong proxy password: PROXY UNREACHABLE, the proxy refused the credentials; exit 1", async () => {
    const wrong = "wr0ng-doctor-s3cret";
    const appUrl = await appWith({
      OPENAI_PROXY: ctx.proxy.url({ user: USER, password: wrong }),
      OPENAI_BASE_URL: ctx.upstream.url,
    });
    const run = await doctor(["--app", appUrl], "");
    expect(run.code, run.out).toBe(1);
    expect(run.out).toMatch(
      /PROXY UNREACHABLE: the app could not use the proxy 127\.0\.0\.1:\d+: the proxy 127\.0\.0\.1:\d+ refused the configured credentials \((401|407)\)/,
    );
    expect(run.out).toContain("check the user and password in OPENAI_PROXY");
    expectNoSecrets(run, wrong, PASSWORD);
  });

  it("a proxy that cannot reach OpenAI (it answers CONNECT with 5xx): its DNS or network, not its CONNECT rules; exit 1", async () => {
    const appUrl = await appWith({
      OPENAI_PROXY: ctx.proxy.url(),
      OPENAI_BASE_URL: `http://127.0.0.1:${ctx.closedPort}`,
    });
    const run = await doctor(["--app", appUrl], "");
    expect(run.code, run.out).toBe(1);
    expect(run.out).toMatch(
      /PROXY UNREACHABLE: .*the proxy 127\.0\.0\.1:\d+ could not reach 127\.0\.0\.1:\d+ \(its DNS or network; it answered CONNECT with 5\d\d\)/,
    );
    expect(run.out).toContain("the proxy itself could not reach OpenAI's host");
    expect(run.out).not.toContain("ConnectPort");
    expectNoSecrets(run, PASSWORD);
  });

  it("a proxy whose exit OpenAI refuses: REGION BLOCKED, choose another proxy exit (not the relay's placement); exit 1", async () => {
    const appUrl = await appWith({ OPENAI_PROXY: ctx.proxy.url(), OPENAI_BASE_URL: ctx.refused.url });
    const run = await doctor(["--app", appUrl], "");
    expect(run.code, run.out).toBe(1);
    expect(run.out).toMatch(/REGION BLOCKED: OpenAI refuses the region the proxy 127\.0\.0\.1:\d+ exits from/);
    expect(run.out).toContain("choose a proxy exit in a region OpenAI serves");
    expect(run.out).not.toContain("[placement]");
    expectNoSecrets(run, PASSWORD);
  });

  it("a working proxy: OK, OpenAI accepts the app's key; exit 0", async () => {
    const appUrl = await appWith({ OPENAI_PROXY: ctx.proxy.url(), OPENAI_BASE_URL: ctx.upstream.url });
    const run = await doctor(["--app", appUrl], "");
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/OK: the app is configured, reaches the proxy 127\.0\.0\.1:\d+/);
    expect(run.out).toContain("OpenAI accepts the app's key");
  });
});

describe("doctor: without a stack", () => {
  it("nothing listening: no answer, is it running; exit 1", async () => {
    const port = await freePort();
    const run = await doctor(["--relay", `http://127.0.0.1:${port}`]);
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain("NO ANSWER");
    expect(run.out).toContain("npm run dev:relay");
  });

  it.each([
    [["--bogus"]],
    [["--relay"]],
    [["--app", "http://a", "--relay", "http://b"]],
    [["http://a", "http://b"]],
    [["ftp://example.com"]],
  ])("usage error %j: exit 2", async (args) => {
    const run = await doctor(args);
    expect(run.code, run.out).toBe(2);
    expect(run.out).toContain("Usage: npm run doctor");
  });
});

/** Runs `run` with .wrangler/app-url.json saying `state`; whatever was there before is put back. */
async function withAppUrl<T>(state: AppUrlState, run: () => Promise<T>): Promise<T> {
  const path = join(ROOT, APP_URL_FILE);
  const before = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  writeAppUrl(ROOT, state);
  try {
    return await run();
  } finally {
    if (before === undefined) rmSync(path, { force: true });
    else writeFileSync(path, before);
  }
}

/** The id of a process that has exited. */
function deadPid(): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    child.once("error", fail);
    child.once("exit", () => done(child.pid as number));
  });
}

/** A port nothing listens on (taken, then released). */
function freePort(): Promise<number> {
  const server = createServer();
  return new Promise((done) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}
