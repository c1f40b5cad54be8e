/**
 * The page's words for a generation's state (workers/app/public/words.js and i18n.js) on their
 * own, in Node: the queue's place and wait, and every state the page shows, in each language.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/build.ts";

type Param = string | number | ((lang: string) => string);
// Plain browser modules without types: imported by URL so TypeScript does not try to check them.
const module = (name: string) => import(pathToFileURL(join(ROOT, "workers/app/public", name)).href);
const { queueStatus, ordinal } = (await module("words.js")) as {
  queueStatus(payload: unknown): [string, Record<string, Param>?];
  ordinal(lang: string, n: number): string;
};
const { translate, STRINGS } = (await module("i18n.js")) as {
  translate(lang: string, key: string, params?: Record<string, unknown>): unknown;
  STRINGS: Record<string, Record<string, unknown>>;
};

/** What renderStatus shows for `[key, params]` in `lang`. */
function shown(lang: string, [key, params = {}]: [string, Record<string, Param>?]): unknown {
  const words = Object.entries(params).map(([name, v]) => [name, typeof v === "function" ? v(lang) : v]);
  return translate(lang, key, Object.fromEntries(words));
}

describe("the page's state in words", () => {
  it("says the place in the queue and the wait, in English and Russian", () => {
    const status = queueStatus({ position: 3, eta_s: 40 });
    expect(shown("en", status)).toBe("In the queue: 3rd, about 40 s.");
    expect(shown("ru", status)).toBe("В очереди: 3-й, примерно 40 с.");
    expect(shown("en", queueStatus({ position: 1, eta_s: 200 }))).toBe("In the queue: 1st, about 4 min.");
    expect(shown("en", queueStatus({ position: 22 }))).toBe("In the queue: 22nd.");
  });

  it("numbers places as each language does", () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 101].map((n) => ordinal("en", n))).toEqual([
      "1st",
      "2nd",
      "3rd",
      "4th",
      "11th",
      "12th",
      "13th",
      "21st",
      "101st",
    ]);
    expect([1, 2, 3].map((n) => ordinal("ru", n))).toEqual(["1-й", "2-й", "3-й"]);
  });

  it("waits without a place when the queue gives none", () => {
    expect(queueStatus({})).toEqual(["waiting"]);
    expect(queueStatus({ position: 0, eta_s: 5 })).toEqual(["waiting"]);
  });

  it.each(Object.keys(STRINGS))("%s has words for every state the page shows", (lang) => {
    const states = ["working", "waiting", "queued", "queuedNoEta", "reconnecting", "resuming", "done", "doneFewer"];
    for (const key of [...states, "fewer", "cancelled", "cancelKept"]) {
      expect(typeof STRINGS[lang]?.[key], `${lang}: ${key}`).toBe("string");
    }
    expect(shown(lang, ["doneFewer", { time: "0:12", got: 2, n: 3 }])).toMatch(/0:12.*2.*3/);
    // The page's own error for a follow that gave up: what happened and what to do.
    const unreachable = (STRINGS[lang]?.errors as Record<string, unknown>)?.unreachable;
    expect(Array.isArray(unreachable) && unreachable.length === 2, `${lang}: unreachable`).toBe(true);
  });
});
