/**
 * Answers to the POST, and which are worth sending again with the same Idempotency-Key (review
 * N7, B2): the server joins the generation the key names, so a retry never pays twice; an answer
 * that is final (a 4xx, or a 5xx that says when to come back) is shown at once and sent once.
 * Everything is the real app and relay: only OpenAI (the stand-in) and, for a lost answer, the
 * network between the browser and the app (a loopback proxy) are made to misbehave.
 *
 * Not here, because nothing outside the app can make it happen: a 5xx JSON answer without
 * Retry-After (the app gives one only when its own Durable Objects fail; OpenAI's failures reach
 * the page as `error` events), and `409 request_in_progress` (a join in the moment between the
 * first request taking the key and creating the generation).
 */
import type { Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { GENERATE } from "../helpers/api.ts";
import { usePageStack } from "./browser.ts";
import { type CutProxy, startCutProxy } from "./cut-proxy.ts";
import { expectFinalImages, storedGeneration } from "./page-helpers.ts";

// One call to OpenAI at a time and one generation waiting at most: a third is refused (queue_full).
const ctx = usePageStack({ appVars: { MAX_CONCURRENT_GENERATIONS: "1", QUEUE_MAX_LENGTH: "1" } });
const upstreamCalls = () => ctx.stack.standIn.apiCalls.length;
const PREVIEW = "#preview-img[src^='data:image/png;base64,']";

let proxy: CutProxy | undefined;
afterEach(async () => {
  ctx.stack.standIn.release();
  await proxy?.close();
  proxy = undefined;
});

/** The Idempotency-Key of every POST the page sends, as sent (the browser's own requests, only watched). */
function postKeys(page: Page): string[] {
  const keys: string[] = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === GENERATE) {
      keys.push(request.headers()["idempotency-key"] ?? "");
    }
  });
  return keys;
}

async function open(url: string): Promise<{ page: Page; keys: string[] }> {
  const page = await ctx.blank();
  const keys = postKeys(page);
  await page.goto(url);
  await page.locator("#options").waitFor();
  return { page, keys };
}

async function click(page: Page, prompt: string): Promise<void> {
  await page.locator("#prompt").fill(prompt);
  await page.getByRole("button", { name: "Generate" }).click();
}

/** Another client's generation, answered 202 at once (`Prefer: respond-async`); its status. */
async function otherClient(prompt: string, ip: string): Promise<string> {
  const res = await ctx.stack.app(GENERATE, {
    method: "POST",
    headers: { "content-type": "application/json", prefer: "respond-async", "cf-connecting-ip": ip },
    body: JSON.stringify({ prompt }),
  });
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { status: string }).status;
}

describe("the POST's answer", () => {
  it("lost after the generation started: sent again with the same key, it joins; one upstream call", async () => {
    proxy = await startCutProxy(ctx.appUrl);
    const { page, keys } = await open(proxy.url);
    const before = upstreamCalls();
    // Idle connections from the page's load closed first: Chromium itself sends a request again
    // when a reused connection fails before any answer, and the page would never see the loss.
    proxy.cut();
    // The request reaches the app and starts the generation; no byte of the answer comes back.
    proxy.muteAnswers();
    await click(page, "an answer lost on the way [[hold]]");
    await expect.poll(() => upstreamCalls() - before, { timeout: 15_000 }).toBe(1);
    expect(await storedGeneration(page)).not.toHaveProperty("id");
    expect(proxy.cut()).toBeGreaterThan(0);

    await expect.poll(() => page.locator("#status").textContent()).toMatch(/reconnecting/);
    await page.locator(PREVIEW).waitFor({ timeout: 15_000 });
    ctx.stack.standIn.release();
    await expectFinalImages(page, proxy.url);
    expect(keys).toEqual([keys[0], keys[0]]);
    expect(upstreamCalls() - before).toBe(1);
    expect(await page.locator("#error").isHidden()).toBe(true);
    expect(await storedGeneration(page)).toBeNull();
  });

  it("a 4xx is final: shown at once, sent once, not kept", async () => {
    const before = upstreamCalls();
    const { page, keys } = await open(ctx.appUrl);
    // A click kept from before a deploy that narrowed the settings (the page never sends a size
    // it was not offered): on the reload the app refuses it, 400 invalid_request.
    await page.evaluate(() =>
      localStorage.setItem(
        "imagegen.running",
        JSON.stringify({
          key: "5b1f3c2e-7a4d-4e8b-9c0f-1d2e3f405162",
          body: { prompt: "a size no longer offered", size: "7x7" },
          prompt: "a size no longer offered",
          n: 1,
          startedAt: Date.now(),
        }),
      ),
    );
    await page.reload();
    await expect.poll(() => page.locator("#error").isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.locator("#error .error-what").textContent()).toBe("The service did not accept these settings.");
    await page.waitForTimeout(1500);
    expect(keys).toEqual(["5b1f3c2e-7a4d-4e8b-9c0f-1d2e3f405162"]);
    expect(upstreamCalls() - before).toBe(0);
    expect(await storedGeneration(page)).toBeNull();
    expect(await page.locator("#generate").isEnabled()).toBe(true);
  });

  it("a 503 that says when to come back (queue_full, with Retry-After) is shown at once, sent once", async () => {
    const before = upstreamCalls();
    const { page, keys } = await open(ctx.appUrl);
    // OpenAI is slow with another client's image (held), a third client's waits: the queue is full.
    expect(await otherClient("a slow one [[hold]]", "203.0.113.21")).toBe("running");
    await expect.poll(() => upstreamCalls() - before, { timeout: 15_000 }).toBe(1);
    expect(await otherClient("a waiting one", "203.0.113.22")).toBe("queued");

    await click(page, "one too many");
    await expect.poll(() => page.locator("#error").isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.locator("#error .error-what").textContent()).toBe(
      "Too many pictures are waiting to be drawn right now.",
    );
    await page.waitForTimeout(1500);
    expect(keys).toHaveLength(1);
    expect(upstreamCalls() - before).toBe(1);
    expect(await storedGeneration(page)).toBeNull();
    // The others go on: released, both are drawn.
    ctx.stack.standIn.release();
    await expect.poll(() => upstreamCalls() - before, { timeout: 15_000 }).toBe(2);
  });
});
