import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

const generate = (body: unknown, headers: Record<string, string> = {}) =>
  stack.app("/api/generate/image", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

describe("POST /api/generate/image", () => {
  it("stores the image and serves exactly the upstream bytes from the app's origin", async () => {
    const res = await generate({ prompt: "a red fox", model: "gpt-image-1" });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const body = JSON.parse(text);
    console.log(body, stack.logs);
  });
});
