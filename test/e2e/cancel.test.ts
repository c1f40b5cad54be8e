/**
 * Cancel (review B5): the page stops waiting at once. A generation already running is paid and
 * finishes anyway, so the page follows it quietly and puts its images in the history; before the
 * page knows which it is, it asks the server to cancel (DELETE) once the id arrives, and a server
 * that cannot (409 running or ended, 405 without DELETE) leaves it running: kept the same way.
 */
import type { Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { usePageStack } from "./browser.ts";
import { storedGeneration } from "./page-helpers.ts";

// A known limit: without one, the fair queue's probe sends one call at a time beyond what it
// has seen succeed, and the held first generation would hold the second back.
const ctx = usePageStack({ appVars: { OPENAI_IMAGES_PER_MINUTE: "100" } });
const upstreamCalls = () => ctx.stack.standIn.apiCalls.length;
const PREVIEW = "#preview-img[src^='data:image/png;base64,']";
const KEPT =
  "Stopped waiting. The picture was already being drawn (and is paid for), so it will appear in your history when it is ready.";

afterEach(() => ctx.stack.standIn.release());

/** Every DELETE the page sends. */
function watchDeletes(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (request) => {
    if (request.method() === "DELETE") seen.push(new URL(request.url()).pathname);
  });
  return seen;
}

async function click(page: Page, prompt: string): Promise<void> {
  await page.locator("#options").waitFor();
  await page.locator("#prompt").fill(prompt);
  await page.getByRole("button", { name: "Generate" }).click();
}

describe("Cancel", () => {
  it("on a running generation: the page is free at once, and the paid image lands in the history", async () => {
    const page = await ctx.load();
    const deletes = watchDeletes(page);
    const before = upstreamCalls();
    await click(page, "a paid fox [[hold]]");
    await page.locator(PREVIEW).waitFor({ timeout: 15_000 });

    await page.getByRole("button", { name: "Cancel" }).click();
    expect(await page.locator("#status").textContent()).toBe(KEPT);
    expect(await page.locator("#generate").isEnabled()).toBe(true);
    expect(await page.locator("#preview").isHidden()).toBe(true);
    expect(await page.locator("#history-list li").count()).toBe(0);

    ctx.stack.standIn.release();
    await expect.poll(() => page.locator("#history-list li").count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator("#history-list .entry-prompt").textContent()).toBe("a paid fox [[hold]]");
    // Quietly: the main result area shows nothing, and no error.
    expect(await page.locator("#images img").count()).toBe(0);
    expect(await page.locator("#error").isHidden()).toBe(true);
    expect(await storedGeneration(page)).toBeNull();
    // A running generation cannot be cancelled; the page does not ask.
    expect(deletes).toEqual([]);
    expect(upstreamCalls() - before).toBe(1);
    expect(ctx.open?.pageErrors).toEqual([]);
  });

  it("before `started`: asks the server once the id arrives; one that cannot cancel it is followed quietly", async () => {
    const page = await ctx.blank();
    const deletes = watchDeletes(page);
    let answer: () => void = () => {};
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    // The request reaches the server; its answer is held until the test lets it through.
    await page.route("**/api/generate/image", async (route) => {
      const response = await route.fetch();
      await answered;
      await route.fulfill({ response });
    });
    await page.goto(ctx.appUrl);
    const before = upstreamCalls();
    await click(page, "a cancel in the dark");
    await expect.poll(() => upstreamCalls() - before, { timeout: 15_000 }).toBe(1);

    await page.getByRole("button", { name: "Cancel" }).click();
    expect(await page.locator("#status").textContent()).toBe("Cancelled. Nothing more will arrive for this request.");
    expect(await page.locator("#generate").isEnabled()).toBe(true);

    answer();
    await expect.poll(() => page.locator("#history-list li").count(), { timeout: 15_000 }).toBe(1);
    expect(deletes).toHaveLength(1);
    expect(deletes[0]).toMatch(/^\/api\/generations\/gen_[0-9a-f]{32}$/);
    // The generation had ended (409) or this server has no DELETE (405): the page says it is kept.
    await expect.poll(() => page.locator("#status").textContent()).toBe(KEPT);
    expect(await page.locator("#images img").count()).toBe(0);
    expect(await storedGeneration(page)).toBeNull();
    expect(upstreamCalls() - before).toBe(1);
  });

  it("a new generation after a cancel is followed as usual, and the cancelled one does not touch its record", async () => {
    const page = await ctx.load();
    const before = upstreamCalls();
    await click(page, "first, cancelled [[hold]]");
    await page.locator(PREVIEW).waitFor({ timeout: 15_000 });
    await page.getByRole("button", { name: "Cancel" }).click();

    // The second waits 4 s at the image service, so the cancelled one ends while it runs.
    await click(page, "second, wanted [[slow=4000]]");
    await expect.poll(() => upstreamCalls(), { timeout: 15_000 }).toBe(before + 2);
    ctx.stack.standIn.release();
    await expect.poll(() => page.locator("#history-list li").count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator("#history-list .entry-prompt").textContent()).toBe("first, cancelled [[hold]]");
    // The cancelled one's end left the second's record alone, and did not touch the screen.
    expect((await storedGeneration(page))?.prompt).toBe("second, wanted [[slow=4000]]");
    expect(await page.locator("#generate").isDisabled()).toBe(true);

    await page.locator("#images img").first().waitFor({ timeout: 15_000 });
    expect(await page.locator("#images img").getAttribute("alt")).toBe("second, wanted [[slow=4000]]");
    expect(await page.locator("#history-list li").count()).toBe(2);
    expect(await storedGeneration(page)).toBeNull();
  });
});
