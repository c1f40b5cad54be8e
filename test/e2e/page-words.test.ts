/**
 * The page's words (workers/app/public/i18n.js) on their own, in Node: every error code the API
 * can answer has a sentence saying what happened and one saying what to do, in each language.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../workers/app/src/errors.ts";
import { ROOT } from "../helpers/build.ts";

type Words = Record<string, { errors: Record<string, unknown> }>;

// A plain browser module without types: imported by URL so TypeScript does not try to check it.
const { STRINGS } = (await import(pathToFileURL(join(ROOT, "workers/app/public/i18n.js")).href)) as {
  STRINGS: Words;
};

describe("page words for API error codes", () => {
  it.each(Object.keys(STRINGS))("%s has what happened and what to do for every code", (language) => {
    for (const code of Object.keys(ERROR_CODES)) {
      const words = STRINGS[language]?.errors[code];
      expect(Array.isArray(words) && words.length === 2, `${language}: ${code}`).toBe(true);
      for (const sentence of words as string[]) expect(sentence.length, `${language}: ${code}`).toBeGreaterThan(0);
    }
  });

  it("tells a budget_busy user to come back in seconds, not tomorrow", () => {
    expect(STRINGS.en?.errors.budget_busy).toEqual([expect.any(String), "Try again in a few seconds."]);
    expect(STRINGS.ru?.errors.budget_busy).toEqual([expect.any(String), "Попробуйте через несколько секунд."]);
  });
});
