import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectError, fetchBytes, generate } from "../helpers/api.ts";
import { sseReader } from "../helpers/sse.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    // QUEUE_WINDOW_S: the rate-limit case's 429 must not hold later tests for a minute.
    appVars: {
      STREAM_HEARTBEAT_MS: "50",
      ALLOWED_MODELS: "gpt-image-1,gpt-image-1-mini,dall-e-2",
      QUEUE_WINDOW_S: "1",
    },
  });
});
afterAll(() => stack?.stop());
beforeEach(() => stack.standIn.reset());

const dataUrlBytes = (url: string) => Buffer.from(url.replace(/^data:image\/png;base64,/, ""), "base64");

describe("POST /api/generate/image with stream: true", () => {
  it("sends started, the partials, then completed with exactly the non-streaming answer", async () => {
    const res = await generate(stack, { prompt: "a fox", model: "gpt-image-1", stream: true, partial_images: 2 });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await sseReader(res).rest();
    expect(events.map((e) => e.event)).toEqual(["started", "running", "partial", "partial", "completed"]);

    // started names the generation (also in X-Generation-Id, sent before the work).
    expect(events[0]?.data).toEqual({
      id: res.headers.get("x-generation-id"),
      request_id: res.headers.get("x-request-id"),
      model: "gpt-image-1",
      status: "queued",
    });
    expect(events.map((e) => e.id)).toEqual(["1", "2", "2.p1", "2.p2", "3"]);
    const [p0, p1] = [events[2]?.data, events[3]?.data] as Array<{ index: number; url: string }>;
    expect(p0?.index).toBe(0);
    expect(p1?.index).toBe(1);
    expect(dataUrlBytes(p0?.url ?? "").equals(stack.standIn.sentImages[0] as Buffer)).toBe(true);

    const completed = events[4]?.data as { id: string; model: string; images: Array<{ url: string }>; usage: object };
    expect(Object.keys(completed).sort()).toEqual(["created", "id", "images", "model", "usage"]);
    expect(completed.model).toBe("gpt-image-1");
    const { bytes } = await fetchBytes(stack, completed.images[0]?.url ?? "");
    expect(bytes.equals(stack.standIn.sentImages[2] as Buffer)).toBe(true);

    const sent = JSON.parse(stack.standIn.apiCalls[0]?.body.toString() ?? "{}");
    expect(sent).toMatchObject({ model: "gpt-image-1", prompt: "a fox", stream: true, partial_images: 2 });
  });

  it("stores a large streamed image exactly (its final event is decoded as it streams)", async () => {
    const res = await generate(stack, {
      prompt: "a fox [[big=6]]",
      model: "gpt-image-1",
      stream: true,
      partial_images: 1,
    });
    const events = await sseReader(res).rest();
    expect(events.map((e) => e.event)).toEqual(["started", "running", "partial", "completed"]);
    const completed = events[3]?.data as { images: Array<{ url: string }> };
    const { bytes } = await fetchBytes(stack, completed.images[0]?.url ?? "");
    expect(bytes.length).toBeGreaterThan(6 * 1024 * 1024 - 1);
    expect(bytes.equals(stack.standIn.sentImages[1] as Buffer)).toBe(true);
  });

  it("forwards each partial as it arrives, not at the end", async () => {
    const res = await generate(stack, { prompt: "a fox [[hold]] [[gap=5]]", model: "gpt-image-1", stream: true });
    const reader = sseReader(res);
    expect((await reader.next())?.event).toBe("started");
    expect((await reader.next())?.event).toBe("running");
    // The stand-in holds the second partial and the completion until release().
    expect((await reader.next())?.event).toBe("partial");
    stack.standIn.release();
    expect((await reader.rest()).map((e) => e.event)).toEqual(["partial", "completed"]);
  });

  it("sends keep-alive comments while nothing else happens", async () => {
    const res = await generate(stack, { prompt: "a slow fox [[slow=400]]", stream: true });
    const reader = sseReader(res);
    const events = await reader.rest();
    expect(events.at(-1)?.event).toBe("completed");
    expect(reader.comments.filter((c) => c.includes("keep-alive")).length).toBeGreaterThanOrEqual(3);
  });

  it("a model that can't stream still gets started, heartbeats and completed", async () => {
    const res = await generate(stack, { prompt: "an old fox [[slow=200]]", model: "dall-e-2", stream: true });
    const reader = sseReader(res);
    const events = await reader.rest();
    expect(events.map((e) => e.event)).toEqual(["started", "running", "completed"]);
    expect(reader.comments.length).toBeGreaterThan(0);
    const sent = JSON.parse(stack.standIn.apiCalls[0]?.body.toString() ?? "{}");
    expect(sent.stream).toBeUndefined();
    expect(sent.partial_images).toBeUndefined();
  });

  it("Accept: text/event-stream asks for the stream too", async () => {
    const res = await generate(stack, { prompt: "a fox" }, { accept: "text/event-stream" });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect((await sseReader(res).rest()).at(-1)?.event).toBe("completed");
  });

  it("an upstream failure is an error event with the usual envelope", async () => {
    const res = await generate(stack, { prompt: "a fox [[moderation]]", stream: true });
    const events = await sseReader(res).rest();
    expect(events.map((e) => e.event)).toEqual(["started", "running", "error"]);
    const err = events[2]?.data as { error: { code: string; request_id: string; message: string } };
    expect(err.error.code).toBe("content_policy");
    expect(err.error.request_id).toBe(res.headers.get("x-request-id"));
  });

  it("a streamed rate limit carries retry_after in the error event (its headers are long gone)", async () => {
    const res = await generate(stack, { prompt: "a fox [[rate_limit]]", stream: true });
    const events = await sseReader(res).rest();
    const err = events.at(-1)?.data as { error: { code: string; retry_after: number } };
    expect(err.error.code).toBe("upstream_rate_limited");
    expect(err.error.retry_after).toBeGreaterThanOrEqual(1);
  });

  it("invalid input is still a plain 400 before any stream", async () => {
    const res = await generate(stack, { prompt: "", stream: true });
    await expectError(res, 400, "invalid_request");
    expect(stack.standIn.apiCalls).toHaveLength(0);
  });
});

describe("GET /api/config", () => {
  it("lists the operator's models with what each takes", async () => {
    const res = await stack.app("/api/config");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.default_model).toBe("gpt-image-1-mini");
    expect(body.models.map((m: { id: string }) => m.id)).toEqual(["gpt-image-1", "gpt-image-1-mini", "dall-e-2"]);
    const gpt = body.models[0];
    expect(gpt).toMatchObject({ streaming: true, flexible_sizes: false, max_images: 10 });
    expect(gpt.sizes).toContain("1536x1024");
    expect(body.models[2]).toMatchObject({ streaming: false, sizes: ["256x256", "512x512", "1024x1024"] });
    expect(body.limits.prompt_max_chars).toBe(32000);
  });

  it("every size and quality it offers is accepted by the API", async () => {
    const body = await (await stack.app("/api/config")).json();
    for (const model of body.models as Array<{ id: string; sizes: string[]; qualities: string[] }>) {
      for (const size of model.sizes) {
        const res = await generate(stack, { prompt: "check", model: model.id, size, quality: model.qualities[0] });
        expect(res.status, `${model.id} ${size}`).toBe(200);
        await res.arrayBuffer();
      }
    }
  });
});
