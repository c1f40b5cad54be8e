/**
 * The click is kept before the server answers (review B4): the page stores its request (key and
 * body) before sending it, so a reload before `started` sends the same request again and joins
 * the generation, or starts it if the first request never got in: one upstream call either way.
 * A stored request is never sent again long after; a follow that keeps failing stops (N1).
 */
import type { Page, Route } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { usePageStack } from "./browser.ts";
import { type CutProxy, startCutProxy } from "./cut-proxy.ts";
import { expectFinalImages, storedGeneration, waitForStoredId } from "./page-helpers.ts";

const ctx = usePageStack();
const upstreamCalls = () => ctx.stack.standIn.apiCalls.length;
const PREVIEW = "#preview-img[src^='data:image/png;base64,']";
const EVENTS = /\/api\/generations\/gen_[0-9a-f]{32}\/events$/;

let proxy: CutProxy | undefined;
afterEach(async () => {
  ctx.stack.standIn.release();
  await proxy?.close();
  proxy = undefined;
});

/** The page on the app, with the first POST handled by `first` and every later one sent on. */
async function withFirstPost(first: (route: Route) => void): Promise<{ page: Page; keys: string[] }> {
  const page = await ctx.blank();
  const keys: string[] = [];
  await page.route("**/api/generate/image", (route) => {
    keys.push(route.request().headers()["idempotency-key"] ?? "");
    if (keys.length > 1) return route.continue();
    first(route);
  });
  await page.goto(ctx.appUrl);
  await page.locator("#options").waitFor();
  return { page, keys };
}

async function click(page: Page, prompt: string): Promise<void> {
  await page.locator("#prompt").fill(prompt);
  await page.getByRole("button", { name: "Generate" }).click();
}

describe("a reload before `started`", () => {
  it("joins the generation the first request started: the image, one upstream call", async () => {
    const before = upstreamCalls();
    // The first request reaches the server and starts the generation; its answer never arrives.
    const { page, keys } = await withFirstPost((route) => void route.fetch().catch(() => {}));
    await click(page, "a kept request [[hold]]");
    await expect.poll(() => upstreamCalls() - before, { timeout: 15_000 }).toBe(1);
    const stored = (await storedGeneration(page)) as unknown as Record<string, unknown>;
    expect(stored).toMatchObject({ key: keys[0], prompt: "a kept request [[hold]]" });
    expect(stored.id).toBeUndefined();

    await page.reload();
    await expect.poll(() => page.locator("#generate").isDisabled()).toBe(true);
    await page.locator(PREVIEW).waitFor({ timeout: 15_000 });
    ctx.stack.standIn.release();
    await expectFinalImages(page, ctx.appUrl);

    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(upstreamCalls() - before).toBe(1);
    expect(await storedGeneration(page)).toBeNull();
    expect(await page.locator("#history-list li").count()).toBe(1);
    expect(ctx.open?.pageErrors).toEqual([]);
  });

  it("starts it when the first request never got in: the image, one upstream call", async () => {
    const before = upstreamCalls();
    let held = false;
    // The first request never leaves the browser (a network gone at the click).
    const { page, keys } = await withFirstPost(() => {
      held = true;
    });
    await click(page, "a request that never left");
    await expect.poll(() => held).toBe(true);
    expect(await storedGeneration(page)).toMatchObject({ key: keys[0] });
    expect(upstreamCalls() - before).toBe(0);

    await page.reload();
    await expectFinalImages(page, ctx.appUrl);
    expect(keys).toEqual([keys[0], keys[0]]);
    expect(upstreamCalls() - before).toBe(1);
    expect(await storedGeneration(page)).toBeNull();
  });

  it("a stored request older than ten minutes is dropped, never sent", async () => {
    const page = await ctx.load();
    await page.locator("#options").waitFor();
    const posts: string[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/api/generate/image")) posts.push(request.url());
    });
    await page.evaluate(() =>
      localStorage.setItem(
        "imagegen.running",
        JSON.stringify({
          key: "0f0e0d0c-0b0a-4998-8776-655443322110",
          body: { prompt: "an old click" },
          prompt: "an old click",
          n: 1,
          startedAt: Date.now() - 11 * 60_000,
        }),
      ),
    );
    await page.reload();
    await page.locator("#options").waitFor();
    await expect.poll(() => storedGeneration(page)).toBeNull();
    await page.waitForTimeout(500);
    expect(posts).toEqual([]);
    expect(await page.locator("#generate").isEnabled()).toBe(true);
    expect(await page.locator("#status").textContent()).toBe("");
  });
});

describe("the end of a stream", () => {
  it("a generation read to its end is not read again, nor stored past its end", async () => {
    const page = await ctx.blank();
    // Every record the page stores, so the test sees what a reload at any moment would read.
    await page.addInitScript(() => {
      const saved: string[] = [];
      Object.assign(window, { saved });
      const setItem = Storage.prototype.setItem;
      Storage.prototype.setItem = function (key: string, value: string) {
        if (key === "imagegen.running") saved.push(value);
        return setItem.call(this, key, value);
      };
    });
    await page.goto(ctx.appUrl);
    await page.locator("#options").waitFor();
    const events: string[] = [];
    page.on("request", (request) => {
      if (EVENTS.test(request.url())) events.push(request.url());
    });
    await click(page, "read once [[hold]]");
    await page.locator(PREVIEW).waitFor({ timeout: 15_000 });
    await waitForStoredId(page);
    await page.reload();
    await page.locator(PREVIEW).waitFor({ timeout: 15_000 });
    ctx.stack.standIn.release();
    await expectFinalImages(page, ctx.appUrl);
    await page.waitForTimeout(2500);
    expect(events).toHaveLength(1);
    expect(await page.locator("#status").textContent()).toMatch(/^Done in/);
    // The final event (3: started, running, completed) is never stored: a reload in the moment
    // before the record goes reads the end again instead of asking for what comes after it.
    const saved = (await page.evaluate(() => (window as unknown as { saved: string[] }).saved)).map(
      (text) => JSON.parse(text).lastEventId,
    );
    expect(saved.length).toBeGreaterThan(0);
    expect(saved.filter((id) => id !== undefined && Number.parseInt(id, 10) >= 3)).toEqual([]);
  });

  it("a server that stays out of reach: stops after a bounded number of tries, says so, keeps the record", async () => {
    proxy = await startCutProxy(ctx.appUrl);
    const page = await ctx.blank();
    await page.clock.install();
    await page.goto(proxy.url);
    await page.locator("#options").waitFor();
    const events: string[] = [];
    page.on("request", (request) => {
      if (EVENTS.test(request.url())) events.push(request.url());
    });
    await click(page, "out of reach [[hold]]");
    await page.locator(PREVIEW).waitFor({ timeout: 15_000 });
    const stored = await waitForStoredId(page);
    // The server is gone for good: nothing listens on the page's origin any more.
    await proxy.close();
    proxy = undefined;
    await expect.poll(() => page.locator("#status").textContent()).toMatch(/reconnecting/);
    for (let i = 0; i < 30 && (await page.locator("#error").isHidden()); i++) {
      await page.clock.fastForward(16_000);
      await page.waitForTimeout(100);
    }
    expect(await page.locator("#error .error-what").textContent()).toBe(
      "The server could not be reached for a while, so this page stopped waiting for the picture.",
    );
    // Ten tries in all: the cut POST's stream, then nine reads of the events.
    expect(events).toHaveLength(9);
    expect(await page.locator("#generate").isEnabled()).toBe(true);
    expect((await storedGeneration(page))?.id).toBe(stored.id);
  });
});
