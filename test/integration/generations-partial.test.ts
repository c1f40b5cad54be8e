/**
 * A paid answer with one bad image among good ones: the good images are kept and answered
 * (`images_missing` counts the rest), never the whole paid generation failed for one image.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError, fetchBytes, generate } from "../helpers/api.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

describe("some images of a paid answer unusable", () => {
  it("keeps and answers the good ones, images_missing for the rest", async () => {
    const res = await generate(stack, { prompt: "three foxes [[not_image=1]]", n: 3 });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const answer = JSON.parse(text) as { id: string; images: Array<{ url: string }>; images_missing?: number };
    expect(answer.images).toHaveLength(2);
    expect(answer.images_missing).toBe(1);
    for (const image of answer.images) expect((await fetchBytes(stack, image.url)).res.status).toBe(200);
    // The record says the same.
    const view = await (await stack.app(`/api/generations/${answer.id}`)).json();
    expect(view).toMatchObject({ status: "succeeded", images_missing: 1 });
    expect(stack.standIn.apiCalls).toHaveLength(1);
  });

  it("every image unusable: still the error it was", async () => {
    await expectError(await generate(stack, { prompt: "a fox [[not_image]]", n: 2 }), 502, "upstream_error");
  });
});
