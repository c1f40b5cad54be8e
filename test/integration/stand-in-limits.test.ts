/**
 * The stand-in's images-per-window limit, called directly over loopback: the fair queue's tests
 * count its 429s, so the limit itself must behave like OpenAI's images per minute.
 */
import { afterEach, describe, expect, it } from "vitest";
import { OpenAIStandIn } from "../../tools/openai-stand-in/server.ts";

let standIn: OpenAIStandIn | undefined;
afterEach(async () => {
  await standIn?.stop();
  standIn = undefined;
});

async function start(options: ConstructorParameters<typeof OpenAIStandIn>[0]) {
  standIn = await new OpenAIStandIn(options).start();
  return standIn;
}

function generate(s: OpenAIStandIn, n = 1) {
  return fetch(`${s.url}/v1/images/generations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-image-1", prompt: "a fox", n, size: "1024x1024" }),
  });
}

describe("stand-in: imagesPerWindow", () => {
  it("accepts up to the limit, then answers OpenAI's rate-limit 429 with both wait headers", async () => {
    const s = await start({ imagesPerWindow: { images: 3, windowMs: 1500 } });
    const started = Date.now();
    for (let i = 0; i < 3; i++) expect((await generate(s)).status).toBe(200);
    const res = await generate(s);
    expect(res.status).toBe(429);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: "requests", param: null, code: "rate_limit_exceeded" });
    expect(String(body.error.message)).toMatch(
      /^Rate limit reached for images per min \(IPM\): Limit 3, Used 3, Requested 1\./,
    );
    const waitMs = Number(res.headers.get("retry-after-ms"));
    expect(waitMs).toBeGreaterThan(0);
    expect(waitMs).toBeLessThanOrEqual(1500 - (Date.now() - started) + 50);
    expect(res.headers.get("retry-after")).toBe(String(Math.ceil(waitMs / 1000)));
    expect(s.rateLimited).toBe(1);
    expect(s.apiCalls).toHaveLength(4);

    // Honouring the wait is enough: the call then succeeds.
    await new Promise((r) => setTimeout(r, waitMs + 20));
    expect((await generate(s)).status).toBe(200);
    expect(s.rateLimited).toBe(1);
  });

  it("counts n images per call, refused calls not at all, and admits any n on an empty window", async () => {
    const s = await start({ imagesPerWindow: { images: 3, windowMs: 60_000 } });
    expect((await generate(s, 2)).status).toBe(200);
    expect((await generate(s, 2)).status).toBe(429);
    expect((await generate(s, 2)).status).toBe(429);
    // The two refusals took nothing: one image still fits.
    expect((await generate(s, 1)).status).toBe(200);
    expect(s.rateLimited).toBe(2);

    s.reset();
    expect(s.rateLimited).toBe(0);
    const big = await generate(s, 5);
    expect(big.status).toBe(200);
    expect(((await big.json()) as { data: unknown[] }).data).toHaveLength(5);
  });

  it("without the option nothing is limited", async () => {
    const s = await start({});
    const answers = await Promise.all(Array.from({ length: 8 }, () => generate(s, 2)));
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(s.rateLimited).toBe(0);
  });
});
