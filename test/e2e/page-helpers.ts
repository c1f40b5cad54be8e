/** What the page tests that generate share: the final image on screen, the stored generation. */
import type { Page } from "playwright-core";
import { expect } from "vitest";

/** The final images are on screen, loaded (naturalWidth > 0) from `appUrl`'s origin; their URLs. */
export async function expectFinalImages(page: Page, appUrl: string, count = 1): Promise<string[]> {
  const imgs = page.locator("#images img");
  await imgs.nth(count - 1).waitFor({ timeout: 30_000 });
  expect(await imgs.count()).toBe(count);
  const srcs: string[] = [];
  for (let i = 0; i < count; i++) {
    const img = imgs.nth(i);
    await expect
      .poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth), { timeout: 10_000 })
      .toBeGreaterThan(0);
    const src = await img.evaluate((el: HTMLImageElement) => el.currentSrc);
    expect(new URL(src).origin).toBe(new URL(appUrl).origin);
    expect(new URL(src).pathname).toMatch(/^\/api\/images\/[0-9a-f]{32}\.png$/);
    srcs.push(src);
  }
  return srcs;
}

export interface StoredGeneration {
  id: string;
  lastEventId?: string;
  prompt: string;
}

/** The generation the page keeps in localStorage, or null. */
export function storedGeneration(page: Page): Promise<StoredGeneration | null> {
  return page.evaluate(() => JSON.parse(localStorage.getItem("imagegen.running") ?? "null"));
}

/** Waits until the page has stored its generation's id (from the `started` event). */
export async function waitForStoredId(page: Page): Promise<StoredGeneration> {
  await page.waitForFunction(() => JSON.parse(localStorage.getItem("imagegen.running") ?? "null")?.id, undefined, {
    timeout: 15_000,
  });
  const stored = await storedGeneration(page);
  expect(stored?.id).toMatch(/^gen_[0-9a-f]{32}$/);
  return stored as StoredGeneration;
}
