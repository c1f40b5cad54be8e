/**
 * A generation outlives the page's connection (issue 15): a reload, a closed tab, a lost network
 * or a broken connection in the middle, and the page still shows the image, with exactly one call
 * to OpenAI. `[[hold]]` keeps the stand-in's answer open after the first preview until the test
 * releases it, so "mid-generation" is a fact, not a race.
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/build.ts";
import { usePageStack } from "./browser.ts";
import { type CutProxy, startCutProxy } from "./cut-proxy.ts";
import { expectFinalImages, storedGeneration, waitForStoredId } from "./page-helpers.ts";

const ctx = usePageStack();
const upstreamCalls = () => ctx.stack.standIn.apiCalls.length;
const PREVIEW = "#preview-img[src^='data:image/png;base64,']";

let proxy: CutProxy | undefined;
afterEach(async () => {
  ctx.stack.standIn.release();
  await proxy?.close();
  proxy = undefined;
});

async function startHeld(page: Page, prompt: string): Promise<void> {
  await page.locator("#options").waitFor();
  await page.locator("#prompt").fill(prompt);
  await page.getByRole("button", { name: "Generate" }).click();
  await page.locator(PREVIEW).waitFor({ timeout: 15_000 });
}

/** Last-Event-ID of every request for a generation's events, in order. */
function watchResumes(page: Page): Array<string | undefined> {
  const seen: Array<string | undefined> = [];
  page.on("request", (request) => {
    if (/\/api\/generations\/gen_[0-9a-f]{32}\/events$/.test(request.url())) {
      seen.push(request.headers()["last-event-id"]);
    }
  });
  return seen;
}

describe("a generation outlives the page's connection", () => {
  it("a reload mid-generation picks it up: the preview again, then the image, one upstream call", async () => {
    const page = await ctx.load();
    const before = upstreamCalls();
    await startHeld(page, "a patient fox [[hold]]");
    const stored = await waitForStoredId(page);
    const resumes = watchResumes(page);

    await page.reload();
    await expect.poll(() => page.locator("#generate").isDisabled()).toBe(true);
    expect(await page.locator("#prompt").inputValue()).toBe("a patient fox [[hold]]");
    await page.locator(PREVIEW).waitFor({ timeout: 15_000 });
    ctx.stack.standIn.release();
    await expectFinalImages(page, ctx.appUrl);

    expect(upstreamCalls() - before).toBe(1);
    expect(resumes.length).toBeGreaterThanOrEqual(1);
    expect(resumes[0]).toMatch(/^\d+$/);
    expect(await storedGeneration(page)).toBeNull();
    expect(await page.locator("#status").textContent()).toMatch(/^Done in \d+:\d\d\.$/);
    expect(await page.locator("#history-list li").count()).toBe(1);
    const answer = await (await fetch(new URL(`/api/generations/${stored.id}`, ctx.appUrl))).json();
    expect(answer).toMatchObject({ id: stored.id, status: "succeeded" });

    // Shown once: the next load has nothing running and shows no result.
    await page.reload();
    await page.locator("#options").waitFor();
    expect(await page.locator("#generate").isEnabled()).toBe(true);
    expect(await page.locator("#images img").count()).toBe(0);
    expect(await page.locator("#history-list li").count()).toBe(1);
    expect(ctx.open?.pageErrors).toEqual([]);
  });

  it("a generation that finished while the tab was closed is shown on the next visit", async () => {
    const page = await ctx.load();
    const before = upstreamCalls();
    await startHeld(page, "a lamp left on [[hold]]");
    const stored = await waitForStoredId(page);
    await page.goto("about:blank");
    ctx.stack.standIn.release();
    await expect
      .poll(async () => (await (await fetch(new URL(`/api/generations/${stored.id}`, ctx.appUrl))).json()).status, {
        timeout: 15_000,
      })
      .toBe("succeeded");

    await page.goto(ctx.appUrl);
    await expectFinalImages(page, ctx.appUrl);
    expect(await storedGeneration(page)).toBeNull();
    expect(upstreamCalls() - before).toBe(1);
  });

  it("an unknown or expired id is dropped quietly", async () => {
    const page = await ctx.load();
    await page.evaluate(() =>
      localStorage.setItem(
        "imagegen.running",
        JSON.stringify({ id: `gen_${"0".repeat(32)}`, lastEventId: "3", prompt: "long ago", n: 1, startedAt: 0 }),
      ),
    );
    await page.reload();
    await expect.poll(() => storedGeneration(page), { timeout: 10_000 }).toBeNull();
    await expect.poll(() => page.locator("#generate").isEnabled()).toBe(true);
    expect(await page.locator("#error").isHidden()).toBe(true);
    expect(await page.locator("#status").textContent()).toBe("");
  });

  it("offline mid-generation: says it is reconnecting, and gets the image once back online", async () => {
    const page = await ctx.load();
    const before = upstreamCalls();
    await startHeld(page, "a ship in fog [[hold]]");
    await waitForStoredId(page);
    const resumes = watchResumes(page);

    await ctx.open?.context.setOffline(true);
    await expect.poll(() => page.locator("#status").textContent()).toMatch(/reconnecting/);
    await page.screenshot({ path: join(ROOT, "test-results", "e2e", "reconnecting.png"), fullPage: true });
    // The generation goes on without the page, and ends while it is offline.
    ctx.stack.standIn.release();
    await page.waitForTimeout(1500);
    expect(await page.locator("#images img").count()).toBe(0);
    await ctx.open?.context.setOffline(false);

    await expectFinalImages(page, ctx.appUrl);
    expect(upstreamCalls() - before).toBe(1);
    expect(resumes.at(-1)).toMatch(/^\d+(\.\w+)?$/);
    expect(await storedGeneration(page)).toBeNull();
    expect(await page.locator("#history-list li").count()).toBe(1);
  });

  it("a connection cut mid-stream: reconnects from the last event seen, one upstream call", async () => {
    proxy = await startCutProxy(ctx.appUrl);
    const page = await ctx.blank();
    await page.goto(proxy.url);
    const before = upstreamCalls();
    await startHeld(page, "a bridge at dusk [[hold]]");
    const stored = await waitForStoredId(page);
    const resumes = watchResumes(page);

    expect(proxy.cut()).toBeGreaterThan(0);
    await expect.poll(() => page.locator("#status").textContent()).toMatch(/reconnecting/);
    // Reconnected from the exact last event: the preview on screen is not sent again.
    await expect.poll(() => resumes.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(resumes[0]).toBe(stored.lastEventId);
    ctx.stack.standIn.release();

    await expectFinalImages(page, proxy.url);
    expect(upstreamCalls() - before).toBe(1);
    expect(await page.locator("#status").textContent()).toMatch(/^Done in/);
  });

  it("a connection gone silent (a closed lid) is dropped after 45 s and read again", async () => {
    proxy = await startCutProxy(ctx.appUrl);
    const page = await ctx.blank();
    // The page's timers on a clock the test moves: 45 s of silence without waiting 45 s.
    await page.clock.install();
    await page.goto(proxy.url);
    const before = upstreamCalls();
    await startHeld(page, "a lid closed [[hold]]");
    const stored = await waitForStoredId(page);
    const resumes = watchResumes(page);

    expect(proxy.freeze()).toBeGreaterThan(0);
    // The server finishes, but the frozen connection never tells the page.
    ctx.stack.standIn.release();
    await page.clock.fastForward(30_000);
    expect(resumes).toEqual([]);
    expect(await page.locator("#status").textContent()).not.toMatch(/reconnecting/);
    await page.clock.fastForward(16_000);
    await expect.poll(() => page.locator("#status").textContent()).toMatch(/reconnecting/);
    // Kept-alive connections froze too, and the next request may go out on one of them: each
    // such attempt is dropped after the same silence, and the browser then opens a new one.
    for (let i = 0; i < 10 && (await page.locator("#images img").count()) === 0; i++) {
      await page.clock.fastForward(16_000);
      await page.waitForTimeout(300);
      if ((await page.locator("#images img").count()) > 0) break;
      await page.clock.fastForward(30_000);
      await page.waitForTimeout(300);
    }
    await expectFinalImages(page, proxy.url);
    expect(resumes[0]).toBe(stored.lastEventId);
    expect(upstreamCalls() - before).toBe(1);
  });
});
