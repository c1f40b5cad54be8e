/**
 * The operator's original setup under `npm start`: OPENAI_API_KEY, IMAGE_GENERATION_PROVIDER=openai
 * and OPENAI_PROXY=http://user:pass@host:port in `.dev.vars`, in `.env` or exported. The settings
 * go through npm start's own split (readSettingsFile + planSettings, as tools/start.ts calls them);
 * each worker then runs in workerd (Miniflare) with exactly its share, instead of under a full
 * `wrangler dev`. A real tinyproxy with Basic auth is the proxy; the stand-in plays OpenAI.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenAIStandIn } from "../../tools/openai-stand-in/server.ts";
import { fromEnvironment, planSettings, projectKeys, readSettingsFile } from "../../tools/start/settings.ts";
import { generate } from "../helpers/api.ts";
import { ROOT } from "../helpers/build.ts";
import { startStack } from "../helpers/stack.ts";
import { startTinyproxy, type Tinyproxy } from "../helpers/tinyproxy.ts";

const KEY = "sk-operator-original-env-0007";
const USER = "operator";
const PASSWORD = "0ld-Env-pr0xy-Pass";

describe("npm start with the original .env lines: images through the forward proxy", () => {
  let upstream: OpenAIStandIn;
  let proxy: Tinyproxy;
  let dir: string;
  let lines: Record<string, string>;

  beforeAll(async () => {
    upstream = await new OpenAIStandIn({ apiKey: KEY }).start();
    proxy = await startTinyproxy({
      user: USER,
      password: PASSWORD,
      connectPorts: [Number(new URL(upstream.url).port)],
    });
    dir = mkdtempSync(join(tmpdir(), "start-proxy-"));
    lines = {
      OPENAI_API_KEY: KEY,
      IMAGE_GENERATION_PROVIDER: "openai",
      OPENAI_PROXY: proxy.url(),
      OPENAI_BASE_URL: upstream.url,
    };
  });
  afterAll(async () => {
    await proxy?.stop();
    await upstream?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const dotenv = () =>
    `${Object.entries(lines)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`;

  for (const where of [".dev.vars", ".env", "exported"] as const) {
    it(`from ${where}: 200, x-egress-route names the proxy, tinyproxy saw the CONNECT, the seed's log lines`, async () => {
      for (const name of [".dev.vars", ".env"]) rmSync(join(dir, name), { force: true });
      if (where !== "exported") writeFileSync(join(dir, where), dotenv());
      const keys = projectKeys(ROOT);
      const environment = fromEnvironment(where === "exported" ? lines : {}, keys);
      const plan = planSettings(keys, environment, readSettingsFile(dir));
      expect(plan.app.OPENAI_API_KEY).toBe(KEY);

      upstream.reset();
      const connectsBefore = proxy.output().split(`CONNECT 127.0.0.1:${new URL(upstream.url).port}`).length;
      const stack = await startStack({ appVars: plan.app, relayVars: plan.relay });
      try {
        const res = await generate(stack, { prompt: "a fox behind the operator's proxy" });
        const text = await res.text();
        expect(res.status, text).toBe(200);
        expect(res.headers.get("x-egress-route")).toBe(`proxy:127.0.0.1:${proxy.port}`);
        expect(proxy.output().split(`CONNECT 127.0.0.1:${new URL(upstream.url).port}`).length).toBeGreaterThan(
          connectsBefore,
        );
        expect(upstream.apiCalls).toHaveLength(1);
        expect(upstream.apiCalls[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
        // The local relay (and its stand-in) is not on the path.
        expect(stack.standIn.apiCalls).toHaveLength(0);
        const messages = stack.logs.map((l) => JSON.parse(l).msg as string);
        expect(messages).toContain("Using OpenAI gpt-image-1-mini for image generation");
        expect(messages).toContain("Image generation completed successfully");
        const everything = text + stack.logs.join("\n");
        expect(everything).not.toContain(PASSWORD);
        expect(everything).not.toContain(KEY);
      } finally {
        await stack.stop();
      }
    });
  }
});
