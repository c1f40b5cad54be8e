/**
 * The page's reads of localStorage while a generation runs: each event reads the stored record
 * once (is it still this generation's? another tab or a newer click may own it) before keeping
 * it, and the end reads the history once, to add the images and show the list.
 */
import { describe, expect, it } from "vitest";
import { usePageStack } from "./browser.ts";
import { expectFinalImages } from "./page-helpers.ts";

const ctx = usePageStack();

describe("localStorage during a generation", () => {
  it("one read of the record per event kept, one read of the history at the end", async () => {
    const page = await ctx.blank();
    await page.addInitScript(() => {
      const calls: string[] = [];
      Object.assign(window, { storageCalls: calls });
      const { getItem, setItem } = Storage.prototype;
      Storage.prototype.getItem = function (key: string) {
        calls.push(`get ${key}`);
        return getItem.call(this, key);
      };
      Storage.prototype.setItem = function (key: string, value: string) {
        calls.push(`set ${key}`);
        return setItem.call(this, key, value);
      };
    });
    await page.goto(ctx.appUrl);
    await page.locator("#options").waitFor();
    const calls = () => page.evaluate(() => (window as unknown as { storageCalls: string[] }).storageCalls);
    const before = (await calls()).length;
    await page.locator("#prompt").fill("a lighthouse, read sparingly");
    await page.getByRole("button", { name: "Generate" }).click();
    await expectFinalImages(page, ctx.appUrl);

    const during = (await calls()).slice(before);
    const count = (call: string) => during.filter((c) => c === call).length;
    const kept = count("set imagegen.running") - 1; // the first is the click's, before any event
    expect(kept).toBeGreaterThan(0);
    // Each kept event, then the end (whose record goes), read the record once.
    expect(count("get imagegen.running")).toBe(kept + 1);
    expect(count("get imagegen.history")).toBe(1);
    expect(count("set imagegen.history")).toBe(1);
  });
});
