/**
 * Two requests with the same Idempotency-Key at the same instant (a double click, a client's
 * retry racing its first try): the second must never meet the key before the generation exists
 * as a 404. It joins the generation, or is told to retry in a second (409 request_in_progress);
 * either way one upstream call.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../helpers/api.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
beforeAll(async () => {
  // Rate limits and a budget: the RPCs between taking the key and creating the generation.
  stack = await startStack({
    appVars: { RATE_LIMIT_PER_MINUTE: "100", RATE_LIMIT_PER_DAY: "1000", DAILY_BUDGET_USD: "100" },
  });
});
afterAll(() => stack?.stop());

describe("the same Idempotency-Key at the same instant", () => {
  it.each(["json", "stream", "async"])("(%s) joins or is told to retry, never 404, one call", async (mode) => {
    stack.standIn.reset();
    const key = { "idempotency-key": `race-${mode}`, ...(mode === "async" ? { prefer: "respond-async" } : {}) };
    const body = { prompt: "a cat [[slow=300]]", ...(mode === "stream" ? { stream: true } : {}) };
    const answers = await Promise.all(Array.from({ length: 6 }, () => generate(stack, body, key)));
    const ids = new Set<string>();
    for (const res of answers) {
      const text = await res.text();
      if (res.status === 409) {
        expect(JSON.parse(text).error.code, text).toBe("request_in_progress");
        expect(res.headers.get("retry-after")).toBe("1");
        continue;
      }
      expect(res.status, text).toBe(mode === "async" ? 202 : 200);
      const id = res.headers.get("x-generation-id") ?? JSON.parse(text).id;
      ids.add(id);
      // What a 202 points at exists at once.
      if (mode === "async") expect((await stack.app(`/api/generations/${id}`)).status).toBe(200);
    }
    expect(ids.size).toBe(1);
    expect(stack.standIn.apiCalls).toHaveLength(1);
  });
});
