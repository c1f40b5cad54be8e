/**
 * The web page in a real browser: what it loads, its languages, its choices from /api/config and
 * this browser's history.
 */
import { describe, expect, it } from "vitest";
import { usePageStack } from "./browser.ts";

const ctx = usePageStack();
const load = (options?: Parameters<typeof ctx.load>[0]) => ctx.load(options);

interface Config {
  default_model: string;
  models: Array<{ id: string; sizes: string[]; qualities: string[] }>;
}

describe("the page", () => {
  it("loads everything from the app's own origin, with choices from /api/config", async () => {
    const page = await load();
    await page.locator("#options").waitFor();
    await page.waitForLoadState("networkidle");

    const origin = new URL(ctx.appUrl).origin;
    const requests = ctx.open?.requests ?? [];
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => !url.startsWith("data:") && new URL(url).origin !== origin)).toEqual([]);
    expect(requests).toContain(`${origin}/api/config`);
    expect(ctx.open?.pageErrors).toEqual([]);

    const config = (await (await fetch(new URL("/api/config", ctx.appUrl))).json()) as Config;
    expect(
      await page.locator("#model option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
    ).toEqual(config.models.map((m) => m.id));
    expect(await page.locator("#model").inputValue()).toBe(config.default_model);
    const model = config.models.find((m) => m.id === config.default_model);
    const sizes = await page.locator("#size option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(sizes.filter((s) => s !== "custom")).toEqual(model?.sizes);
    expect(
      await page.locator("#quality option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
    ).toEqual(model?.qualities);
  });

  it("sends its own security headers with the page", async () => {
    const res = await fetch(ctx.appUrl);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("content-security-policy")).toContain("connect-src 'self'");
  });

  it("speaks Russian to a Russian browser", async () => {
    const page = await load({ locale: "ru-RU" });
    await expect.poll(() => page.locator("h1").textContent()).toBe("Генерация изображений");
    expect(await page.locator("html").getAttribute("lang")).toBe("ru");
    expect(await page.getByRole("button", { name: "Создать" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Русский" }).getAttribute("aria-pressed")).toBe("true");
  });

  it("switches language with the visible switch and keeps the choice after a reload", async () => {
    const page = await load({ locale: "en-US" });
    await expect.poll(() => page.locator("h1").textContent()).toBe("Image generation");

    await page.getByRole("button", { name: "Русский" }).click();
    expect(await page.locator("h1").textContent()).toBe("Генерация изображений");
    expect(await page.locator("label[for=prompt]").textContent()).toBe("Что должно быть на картинке?");
    expect(await page.title()).toBe("Генерация изображений");

    await page.reload();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Генерация изображений");
    expect(await page.locator("html").getAttribute("lang")).toBe("ru");

    await page.getByRole("button", { name: "English" }).click();
    await page.reload();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Image generation");
  });

  it("keeps recent results across reloads and clears them on request", async () => {
    const page = await load();
    await page.locator("#options").waitFor();
    expect(await page.locator("#history-empty").isVisible()).toBe(true);
    for (const prompt of ["a pear", "an apple"]) {
      await page.locator("#prompt").fill(prompt);
      await page.getByRole("button", { name: "Generate" }).click();
      await page.locator("#images img").waitFor();
      await expect.poll(() => page.locator("#generate").isEnabled()).toBe(true);
    }
    await page.reload();
    const items = page.locator("#history-list li");
    await expect.poll(() => items.count()).toBe(2);
    expect(await items.first().locator(".entry-prompt").textContent()).toBe("an apple");
    const thumb = items.first().locator("img");
    await expect.poll(() => thumb.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);

    // "Use this prompt" puts the prompt back in the box.
    await items.nth(1).getByRole("button", { name: "Use this prompt" }).click();
    expect(await page.locator("#prompt").inputValue()).toBe("a pear");

    await page.getByRole("button", { name: "Clear history" }).click();
    expect(await items.count()).toBe(0);
    expect(await page.locator("#history-empty").isVisible()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("history-title");
    await page.reload();
    await page.locator("#history-empty").waitFor();
    expect(await items.count()).toBe(0);
  });
});
