/**
 * Answers to the POST that are worth sending again with the same Idempotency-Key (review N7, B2):
 * the server joins the generation the key names, so a retry never pays twice. A server error
 * before any event (the generation may exist: its events answer failed after it was created) is
 * retried a few times, then shown; `409 request_in_progress` (a join that came before the first
 * request's record) is retried after its Retry-After. The app's answers are replaced in the
 * browser (page.route) because this branch's server never gives them on purpose.
 */
import type { Page, Route } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { usePageStack } from "./browser.ts";
import { expectFinalImages, storedGeneration } from "./page-helpers.ts";

const ctx = usePageStack();
const upstreamCalls = () => ctx.stack.standIn.apiCalls.length;
const PREVIEW = "#preview-img[src^='data:image/png;base64,']";

afterEach(() => ctx.stack.standIn.release());

const envelope = (code: string, status: number, extra: Record<string, string> = {}) => ({
  status,
  headers: { "content-type": "application/json", "x-request-id": "req_test", ...extra },
  body: JSON.stringify({ error: { code, message: code, type: "server_error", request_id: "req_test" } }),
});

/** The page on the app; `answer(route, n)` handles the n-th POST (from 1), or it is sent on. */
async function withPosts(
  answer: (route: Route, n: number) => Promise<boolean>,
): Promise<{ page: Page; keys: string[]; times: number[] }> {
  const page = await ctx.blank();
  const keys: string[] = [];
  const times: number[] = [];
  await page.route("**/api/generate/image", async (route) => {
    keys.push(route.request().headers()["idempotency-key"] ?? "");
    times.push(Date.now());
    if (!(await answer(route, keys.length))) await route.continue();
  });
  await page.goto(ctx.appUrl);
  await page.locator("#options").waitFor();
  return { page, keys, times };
}

async function click(page: Page, prompt: string): Promise<void> {
  await page.locator("#prompt").fill(prompt);
  await page.getByRole("button", { name: "Generate" }).click();
}

describe("the POST answered with a retryable error", () => {
  it("a 500 after the generation was created: sent again with the same key, it joins; one upstream call", async () => {
    const before = upstreamCalls();
    const { page, keys } = await withPosts(async (route, n) => {
      if (n > 1) return false;
      // The request reaches the server and starts the generation; the page gets a 500 instead.
      void route.fetch().catch(() => {});
      await expect.poll(() => upstreamCalls() - before, { timeout: 15_000 }).toBe(1);
      await route.fulfill(envelope("internal_error", 500));
      return true;
    });
    await click(page, "a 500 that was not the end [[hold]]");
    await page.locator(PREVIEW).waitFor({ timeout: 15_000 });
    ctx.stack.standIn.release();
    await expectFinalImages(page, ctx.appUrl);
    expect(keys).toEqual([keys[0], keys[0]]);
    expect(upstreamCalls() - before).toBe(1);
    expect(await page.locator("#error").isHidden()).toBe(true);
  });

  it("a server error that stays: three tries, then it is shown, and the request is kept for a reload", async () => {
    const { page, keys } = await withPosts(async (route) => {
      await route.fulfill(envelope("internal_error", 500));
      return true;
    });
    await click(page, "a server that keeps failing");
    await expect.poll(() => page.locator("#error").isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.locator("#error .error-what").textContent()).toBe("Something broke on our server.");
    expect(keys).toEqual([keys[0], keys[0], keys[0]]);
    expect(await page.locator("#generate").isEnabled()).toBe(true);
    expect(await storedGeneration(page)).toMatchObject({ key: keys[0], prompt: "a server that keeps failing" });
  });

  it("409 request_in_progress: sent again after its Retry-After with the same key; one upstream call", async () => {
    const before = upstreamCalls();
    const { page, keys, times } = await withPosts(async (route, n) => {
      if (n > 1) return false;
      await route.fulfill(envelope("request_in_progress", 409, { "retry-after": "2" }));
      return true;
    });
    await click(page, "a join that came too early");
    await expectFinalImages(page, ctx.appUrl);
    expect(keys).toEqual([keys[0], keys[0]]);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(1900);
    expect(upstreamCalls() - before).toBe(1);
    expect(await page.locator("#error").isHidden()).toBe(true);
  });

  it("a 4xx is final: shown at once, sent once", async () => {
    const { page, keys } = await withPosts(async (route) => {
      await route.fulfill(envelope("rate_limited", 429, { "retry-after": "30" }));
      return true;
    });
    await click(page, "too many");
    await expect.poll(() => page.locator("#error").isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.locator("#error .error-what").textContent()).toBe(
      "You have asked for many pictures in a short time.",
    );
    await page.waitForTimeout(1500);
    expect(keys).toHaveLength(1);
    expect(await storedGeneration(page)).toBeNull();
  });
});
