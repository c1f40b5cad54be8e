/**
 * The fair queue on the page (issue 16): with OpenAI's limit reached, the page says where the
 * generation is in the queue ("In the queue: 1st, about 4 s.") and then shows its image. The
 * stand-in allows one image per 4 s and the app knows it (OPENAI_IMAGES_PER_MINUTE per its
 * 4 s window); another client's generation holds the window when the page asks.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generate } from "../helpers/api.ts";
import { ROOT } from "../helpers/build.ts";
import { usePageStack } from "./browser.ts";
import { expectFinalImages } from "./page-helpers.ts";

const ctx = usePageStack({
  standIn: { imagesPerWindow: { images: 1, windowMs: 4000 } },
  appVars: { QUEUE_WINDOW_S: "4", OPENAI_IMAGES_PER_MINUTE: "1" },
});

describe("the page in the queue", () => {
  it("shows its place in the queue, then the image", async () => {
    const page = await ctx.load();
    await page.locator("#options").waitFor();
    const other = await generate(
      ctx.stack,
      { prompt: "another client's image" },
      { "cf-connecting-ip": "203.0.113.9" },
    );
    expect(other.status).toBe(200);
    await page.locator("#prompt").fill("a fox waiting its turn");
    await page.getByRole("button", { name: "Generate" }).click();
    await expect
      .poll(() => page.locator("#status").textContent(), { timeout: 10_000 })
      .toMatch(/^In the queue: 1st, about \d+ s\.$/);
    // The README's picture of this state (docs/page-queue.png is copied from it).
    mkdirSync(join(ROOT, "test-results", "e2e"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "test-results", "e2e", "queue.png"), fullPage: true });
    await expectFinalImages(page, ctx.appUrl);
    expect(ctx.stack.standIn.apiCalls).toHaveLength(2);
    expect(ctx.stack.standIn.rateLimited).toBe(0);
  });
});
