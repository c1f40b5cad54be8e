import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { placeholderPng } from "../../tools/openai-stand-in/png.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/** The official client, unchanged but for baseURL and one header, against the relay alone. */
const TOKEN = "client-test-token";

let stack: Stack;
let client: OpenAI;
beforeAll(async () => {
  stack = await startStack({ relayVars: { RELAY_TOKEN: TOKEN } });
  client = new OpenAI({
    apiKey: "sk-not-used-the-relay-has-its-own",
    baseURL: `${stack.relayUrl}/v1`,
    defaultHeaders: { "X-Relay-Token": TOKEN },
    maxRetries: 0,
  });
});
afterAll(() => stack?.stop());
beforeEach(() => stack.standIn.reset());

describe("official openai client through the relay", () => {
  it("images.generate returns b64 images and the request id", async () => {
    const res = await client.images.generate({ model: "gpt-image-1", prompt: "a red fox", size: "1024x1024" });
    const b64 = res.data?.[0]?.b64_json ?? "";
    expect(Buffer.from(b64, "base64").equals(stack.standIn.sentImages[0] as Buffer)).toBe(true);
    expect(res.usage?.total_tokens).toBeGreaterThan(0);
    expect(res._request_id).toMatch(/^req_/);
  });

  it("streaming: each partial event arrives as the upstream sends it", async () => {
    const stream = await client.images.generate({
      model: "gpt-image-1",
      prompt: "a slow fox [[hold]] [[gap=5]]",
      stream: true,
      partial_images: 2,
    });
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      // The stand-in holds the rest until released: seeing the first partial proves streaming.
      if (types.length === 1) {
        expect(event.type).toBe("image_generation.partial_image");
        stack.standIn.release();
      }
    }
    expect(types).toEqual([
      "image_generation.partial_image",
      "image_generation.partial_image",
      "image_generation.completed",
    ]);
  });

  it("images.edit uploads the PNG through the relay untouched", async () => {
    const png = placeholderPng(64, 64, "input image");
    const res = await client.images.edit({
      model: "gpt-image-1",
      prompt: "add a hat",
      image: await toFile(png, "input.png", { type: "image/png" }),
    });
    expect(res.data?.[0]?.b64_json).toBeTruthy();
    const call = stack.standIn.apiCalls[0];
    expect(call?.path).toBe("/v1/images/edits");
    expect(call?.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(call?.body.includes(png)).toBe(true);
  });

  it("images.edit streamed: image_edit.* events, as OpenAI names them for edits", async () => {
    const stream = await client.images.edit({
      model: "gpt-image-1",
      prompt: "add a hat",
      image: await toFile(placeholderPng(64, 64, "input image"), "input.png", { type: "image/png" }),
      stream: true,
      partial_images: 1,
    });
    const events: Array<{ type: string; b64_json?: string }> = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).toEqual(["image_edit.partial_image", "image_edit.completed"]);
    const final = Buffer.from(events[1]?.b64_json ?? "", "base64");
    expect(final.equals(stack.standIn.sentImages.at(-1) as Buffer)).toBe(true);
    expect(stack.standIn.apiCalls[0]?.path).toBe("/v1/images/edits");
  });

  it("errors surface as the client's own classes with OpenAI's code", async () => {
    const region = client.images.generate({ model: "gpt-image-1", prompt: "x [[region_block]]" });
    await expect(region).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    await expect(region).rejects.toMatchObject({ status: 403, code: "unsupported_country_region_territory" });

    const moderation = client.images.generate({ model: "gpt-image-1", prompt: "x [[moderation]]" });
    await expect(moderation).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(moderation).rejects.toMatchObject({ code: "moderation_blocked" });

    const limited = client.images.generate({ model: "gpt-image-1", prompt: "x [[rate_limit]]" });
    await expect(limited).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(limited).rejects.toMatchObject({ headers: expect.anything() });
  });

  it("a missing relay token is an AuthenticationError with the relay's code", async () => {
    const noToken = new OpenAI({ apiKey: "sk-x", baseURL: `${stack.relayUrl}/v1`, maxRetries: 0 });
    const call = noToken.images.generate({ model: "gpt-image-1", prompt: "a" });
    await expect(call).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(call).rejects.toMatchObject({ code: "relay_token_missing", type: "relay_error" });
    expect(stack.standIn.requests).toHaveLength(0);
  });
});
