/**
 * The web page in a real browser against both workers in Miniflare (static assets included) and
 * the OpenAI stand-in: generating with previews, errors in plain words, cancelling, the keyboard.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/build.ts";
import { usePageStack } from "./browser.ts";

const SHOTS = join(ROOT, "test-results", "e2e");

const ctx = usePageStack();

beforeAll(() => {
  mkdirSync(SHOTS, { recursive: true });
});

async function load(options?: Parameters<typeof ctx.load>[0]): Promise<Page> {
  const page = await ctx.load(options);
  // The choices come from GET /api/config; generating before they arrive would use other defaults.
  await page.locator("#options").waitFor();
  return page;
}

/** The final image is on screen: loaded (naturalWidth > 0) from the app's own origin. */
async function expectFinalImage(page: Page): Promise<string> {
  const img = page.locator("#images img").first();
  await img.waitFor();
  await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
  const src = await img.evaluate((i: HTMLImageElement) => i.currentSrc);
  expect(new URL(src).origin).toBe(new URL(ctx.appUrl).origin);
  expect(new URL(src).pathname).toMatch(/^\/api\/images\/[0-9a-f]{32}\.png$/);
  return src;
}

function foreignRequests(): string[] {
  const origin = new URL(ctx.appUrl).origin;
  return (ctx.open?.requests ?? []).filter((url) => !url.startsWith("data:") && new URL(url).origin !== origin);
}

describe("generating on the page", () => {
  it("shows partial previews as they stream, then the final image with a download link", async () => {
    const page = await load();
    await page.locator("#prompt").fill("a red fox in the snow [[gap=400]]");
    await page.getByRole("button", { name: "Generate" }).click();

    await expect.poll(() => page.locator("#generate").isDisabled()).toBe(true);
    await page.locator("#timer").waitFor();
    const preview = page.locator("#preview-img[src^='data:image/png;base64,']");
    await preview.waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(SHOTS, "streaming.png"), fullPage: true });
    expect(await page.locator("#preview-caption").textContent()).toMatch(/Preview \d/);

    const src = await expectFinalImage(page);
    expect(await page.locator("#preview").isHidden()).toBe(true);
    const download = page.getByRole("link", { name: "Download" });
    expect(await download.getAttribute("href")).toBe(src);
    expect(await download.getAttribute("download")).toMatch(/\.png$/);
    expect(await page.locator("#status").textContent()).toMatch(/^Done in \d+:\d\d\.$/);
    expect(await page.locator("#generate").isEnabled()).toBe(true);
    expect(await page.locator("#timer").isHidden()).toBe(true);

    // The history keeps the result, and still has it after a reload.
    expect(await page.locator("#history-list li").count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, "finished.png"), fullPage: true });
    await page.setViewportSize({ width: 360, height: 780 });
    await page.screenshot({ path: join(SHOTS, "finished-360.png"), fullPage: true });
    // Nothing wider than the phone screen: no sideways scrolling.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

    expect(foreignRequests()).toEqual([]);
    expect(ctx.open?.pageErrors).toEqual([]);
  });

  it("explains a region block in plain words, with the request id for support", async () => {
    const page = await load();
    await page.locator("#prompt").fill("a cat [[region_block]]");
    await page.getByRole("button", { name: "Generate" }).click();

    const alert = page.getByRole("alert");
    await alert.waitFor();
    const text = (await alert.textContent()) ?? "";
    expect(text).toContain("cannot be reached from our server's location");
    expect(text).toContain("This is on our side, not yours.");
    expect(text).toMatch(/Request id \(for support\): \S+/);
    expect(text).not.toMatch(/[{}]|region_blocked|upstream_error/);
    expect(await page.locator("#generate").isEnabled()).toBe(true);
    expect(await page.locator("#images img").count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, "region-blocked.png"), fullPage: true });

    // The message follows a language switch.
    await page.getByRole("button", { name: "Русский" }).click();
    expect(await alert.textContent()).toContain("недоступен из места, где работает наш сервер");
  });

  it("shows a refused prompt's advice and not the server's JSON", async () => {
    const page = await load();
    await page.locator("#prompt").fill("something forbidden [[moderation]]");
    await page.locator("#prompt").press("Enter");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toContain("Rephrase it");
  });

  it("still generates, with the server's defaults, from a server without /api/config or streaming", async () => {
    const page = await ctx.blank();
    await page.route("**/api/config", (route) => route.fulfill({ status: 404, body: "" }));
    // The real server, asked the old way: no stream field, JSON only.
    const sent: unknown[] = [];
    await page.route("**/api/generate/image", async (route) => {
      const body = JSON.parse(route.request().postData() ?? "{}");
      sent.push(body);
      const { stream: _s, partial_images: _p, ...plain } = body;
      const headers = { ...route.request().headers(), accept: "application/json" };
      const response = await route.fetch({ headers, postData: JSON.stringify(plain) });
      expect(response.headers()["content-type"]).toMatch(/^application\/json/);
      await route.fulfill({ response });
    });
    await page.goto(ctx.appUrl);
    await page.locator("#notice").waitFor();
    expect(await page.locator("#options").isHidden()).toBe(true);

    await page.locator("#prompt").fill("a plain answer");
    await page.getByRole("button", { name: "Generate" }).click();
    await expectFinalImage(page);
    expect(sent).toEqual([{ prompt: "a plain answer" }]);
  });

  it("cancels a running generation with the Cancel button", async () => {
    const page = await load();
    await page.locator("#prompt").fill("a very slow boat [[slow=5000]]");
    await page.getByRole("button", { name: "Generate" }).click();
    const cancel = page.getByRole("button", { name: "Cancel" });
    await cancel.waitFor();
    await cancel.click();

    // Its call has left (the image service is just slow): paid, so it is kept for the history.
    await expect.poll(() => page.locator("#status").textContent()).toMatch(/^Stopped waiting\./);
    expect(await page.locator("#generate").isEnabled()).toBe(true);
    expect(await cancel.isHidden()).toBe(true);
    expect(await page.locator("#error").isHidden()).toBe(true);
    await expect.poll(() => page.locator("#history-list li").count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator("#images img").count()).toBe(0);
  });

  it("works with the keyboard alone", async () => {
    const page = await load();
    // Tab from the top of the page reaches the prompt, after the language switch.
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent);
    const order: Array<string | null | undefined> = [];
    for (let i = 0; i < 10 && order.at(-1) !== "prompt"; i++) {
      await page.keyboard.press("Tab");
      order.push(await focused());
    }
    expect(order).toEqual(["English", "Русский", "prompt"]);
    // The focus is visible.
    expect(await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle)).toBe("solid");

    // Shift+Enter is a new line, Enter generates.
    await page.keyboard.type("a lighthouse");
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type("at night");
    expect(await page.locator("#prompt").inputValue()).toBe("a lighthouse\nat night");
    expect(await page.locator("#generate").isEnabled()).toBe(true);
    await page.keyboard.press("Enter");
    await expectFinalImage(page);

    // Ctrl+Enter generates from any control of the form; Esc cancels.
    await page.keyboard.press("Control+a");
    await page.keyboard.type("a slow ship [[slow=5000]]");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("model");
    await page.keyboard.press("Control+Enter");
    await page.getByRole("button", { name: "Cancel" }).waitFor();
    await page.keyboard.press("Escape");
    // Its call has left (the image service is just slow): paid, so it is kept for the history.
    await expect.poll(() => page.locator("#status").textContent()).toMatch(/^Stopped waiting\./);
    expect(await page.locator("#generate").isEnabled()).toBe(true);

    // The Generate button itself, reached with Tab and pressed with Enter; focus comes back to it
    // when it is done, and the next Tab is the new picture's download link.
    await page.keyboard.press("Shift+Tab");
    expect(await focused()).toBe("prompt");
    await page.keyboard.press("Control+a");
    await page.keyboard.type("a quick sketch");
    for (let i = 0; i < 8 && (await focused()) !== "generate"; i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe("generate");
    await page.keyboard.press("Enter");
    await expectFinalImage(page);
    expect(await focused()).toBe("generate");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("Download");
  });
});
