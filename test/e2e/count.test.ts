/**
 * One click, one generation, every image asked for (issue 15): "Images: 3" shows three images
 * whatever OpenAI's stream does with n (one `completed` per image or only one), says so when
 * fewer came back, and neither a double click nor a retried request pays for a second generation.
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/build.ts";
import { usePageStack } from "./browser.ts";
import { expectFinalImages } from "./page-helpers.ts";

const ctx = usePageStack();
const upstreamCalls = () => ctx.stack.standIn.apiCalls.length;

async function load(): Promise<Page> {
  const page = await ctx.load();
  await page.locator("#options").waitFor();
  return page;
}

describe("images asked for, images shown", () => {
  it.each([
    ["OpenAI's default stream shape", "three pears"],
    ["one completed event per image", "three plums [[stream_n=each]]"],
  ])("Images: 3 shows three images (%s), one upstream call", async (_shape, prompt) => {
    const page = await load();
    const before = upstreamCalls();
    await page.locator("#count").selectOption("3");
    await page.locator("#prompt").fill(prompt);
    await page.getByRole("button", { name: "Generate" }).click();

    const srcs = await expectFinalImages(page, ctx.appUrl, 3);
    expect(new Set(srcs).size).toBe(3);
    expect(upstreamCalls() - before).toBe(1);
    expect(await page.locator("#status").textContent()).toMatch(/^Done in \d+:\d\d\.$/);
    expect(await page.locator("#images .notice").count()).toBe(0);
    expect(await page.locator("#history-list li .entry-meta").first().textContent()).toContain("3×");
  });

  it("says so when OpenAI returned fewer images than asked for, in both languages", async () => {
    const page = await load();
    await page.locator("#count").selectOption("3");
    await page.locator("#prompt").fill("three lemons [[images=2]]");
    await page.getByRole("button", { name: "Generate" }).click();

    await expectFinalImages(page, ctx.appUrl, 2);
    const note = page.locator("#images .notice");
    expect(await note.textContent()).toBe("The image service returned 2 of 3 images; the others were not drawn.");
    expect(await page.locator("#status").textContent()).toMatch(/^Done in \d+:\d\d, with 2 of 3 images\.$/);
    await page.screenshot({ path: join(ROOT, "test-results", "e2e", "fewer-images.png"), fullPage: true });
    await page.getByRole("button", { name: "Русский" }).click();
    expect(await note.textContent()).toBe("Сервис изображений вернул 2 из 3 картинок; остальные не нарисованы.");
  });
});

describe("one click, one generation", () => {
  it("a double click is one generation", async () => {
    const page = await load();
    const before = upstreamCalls();
    const posts: string[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/api/generate/image")) posts.push(request.headers()["idempotency-key"] ?? "");
    });
    await page.locator("#prompt").fill("a quick double click [[gap=300]]");
    await page.locator("#generate").dblclick();

    await expectFinalImages(page, ctx.appUrl);
    expect(upstreamCalls() - before).toBe(1);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(await page.locator("#history-list li").count()).toBe(1);
  });

  it("a request whose answer was lost is sent again with the same key and joins, not pays twice", async () => {
    const page = await ctx.blank();
    const keys: string[] = [];
    await page.route("**/api/generate/image", async (route) => {
      keys.push(route.request().headers()["idempotency-key"] ?? "");
      if (keys.length > 1) return route.continue();
      // The first request reaches the server and runs to its end, but its answer never arrives.
      await route.fetch();
      await route.abort("connectionreset");
    });
    await page.goto(ctx.appUrl);
    await page.locator("#options").waitFor();
    const before = upstreamCalls();
    await page.locator("#prompt").fill("an answer lost on the way");
    await page.getByRole("button", { name: "Generate" }).click();

    await expectFinalImages(page, ctx.appUrl);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(upstreamCalls() - before).toBe(1);
  });
});
