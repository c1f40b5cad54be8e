import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenAIStandIn } from "../../tools/openai-stand-in/server.ts";

/**
 * The stand-in answers both shapes a stream with n > 1 might have (OpenAI's is not documented,
 * docs/design/durable-generations.md §5) and can return fewer images than asked, so the app's
 * handling of each can be tested. Read with OpenAI's own client: both shapes are streams it accepts.
 */
let standIn: OpenAIStandIn;
let client: OpenAI;

beforeAll(async () => {
  standIn = await new OpenAIStandIn({ apiKey: "sk-test" }).start();
  client = new OpenAI({ apiKey: "sk-test", baseURL: `${standIn.url}/v1`, maxRetries: 0 });
});
afterAll(() => standIn.stop());

async function streamed(prompt: string, n: number, partials = 1) {
  const stream = await client.images.generate({
    model: "gpt-image-1",
    prompt: `a fox ${prompt} [[gap=1]]`,
    n,
    stream: true,
    partial_images: partials,
  });
  const events: Event[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

type Event = { type: string; usage?: { output_tokens: number } };
const completed = (events: Event[]) => events.filter((e) => e.type === "image_generation.completed");

describe("stand-in: streams with n > 1", () => {
  it("[[stream_n=each]] sends one completed event per image, the last with the call's usage", async () => {
    const events = await streamed("[[stream_n=each]]", 3);
    const done = completed(events);
    expect(done).toHaveLength(3);
    expect(events.map((e) => e.type.split(".")[1])).toEqual([
      "partial_image",
      "completed",
      "partial_image",
      "completed",
      "partial_image",
      "completed",
    ]);
    // Each image's tokens (1056 + 100 per partial) add up: the last event's usage is the call's.
    expect(done.map((e) => e.usage?.output_tokens)).toEqual([1156, 2312, 3468]);
  });

  it("[[stream_n=one]] sends one completed event whatever n is", async () => {
    expect(completed(await streamed("[[stream_n=one]]", 3))).toHaveLength(1);
  });

  it("without a directive a stream keeps today's shape (one completed event)", async () => {
    expect(completed(await streamed("", 3, 0))).toHaveLength(1);
  });

  it("[[images=K]] returns K of n images, streamed (each) or as JSON", async () => {
    expect(completed(await streamed("[[stream_n=each]] [[images=2]]", 3))).toHaveLength(2);
    const answer = await client.images.generate({ model: "gpt-image-1", prompt: "a fox [[images=2]]", n: 3 });
    expect(answer.data).toHaveLength(2);
    expect(answer.usage?.output_tokens).toBe(2 * 1056);
  });

  it("[[images=K]] never returns more than n", async () => {
    const answer = await client.images.generate({ model: "gpt-image-1", prompt: "a fox [[images=5]]", n: 2 });
    expect(answer.data).toHaveLength(2);
  });
});
