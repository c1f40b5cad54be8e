/**
 * Durable generations (issue 15): a generation belongs to its Durable Object, not to the
 * connection. A client that leaves at any point still gets its image later from
 * GET /api/generations/{id}, stored once, after exactly one upstream call.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectError, generate } from "../helpers/api.ts";
import { sseReader } from "../helpers/sse.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    appVars: { GENERATION_TTL_HOURS: "0.001", ALLOWED_MODELS: "gpt-image-1,gpt-image-1-mini,dall-e-2" },
  });
});
afterAll(() => stack?.stop());
beforeEach(() => stack.standIn.reset());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function imageCount(s: Stack): Promise<number> {
  const bucket = await s.mf.getR2Bucket("IMAGES");
  return (await bucket.list({ prefix: "images/" })).objects.length;
}

/** Polls GET /api/generations/{id} until it has ended. */
async function ended(s: Stack, id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const res = await s.app(`/api/generations/${id}`);
    expect(res.status).toBe(200);
    const view = (await res.json()) as Record<string, unknown>;
    if (view.status === "succeeded" || view.status === "failed") return view;
    await sleep(50);
  }
  throw new Error(`generation ${id} did not end`);
}

/** Waits for the upstream call, and a little more: the stand-in's [[hold]] is set once its answer is drawn. */
async function untilCalled(s: Stack, calls = 1): Promise<void> {
  for (let i = 0; i < 400 && s.standIn.apiCalls.length < calls; i++) await sleep(10);
  await sleep(300);
}

/** POST /api/generate/image with a signal, so the test can hang up like a client. */
function generateWith(s: Stack, body: unknown, headers: Record<string, string>, signal: AbortSignal) {
  return s.app("/api/generate/image", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

describe("a client that leaves does not lose its image", () => {
  it("before the upstream answers (stream): the generation finishes and GET returns it", async () => {
    const before = await imageCount(stack);
    // dall-e-2 is asked without stream: the stand-in sends the first 64 KiB of its JSON, then holds.
    const res = await generate(stack, { prompt: "a fox [[hold]]", model: "dall-e-2", stream: true });
    const id = res.headers.get("x-generation-id") ?? "";
    expect(id).toMatch(/^gen_[0-9a-f]{32}$/);
    await untilCalled(stack);
    await res.body?.cancel();
    stack.standIn.release();
    const view = await ended(stack, id);
    expect(view.status).toBe("succeeded");
    expect(view.images).toHaveLength(1);
    expect(stack.standIn.apiCalls).toHaveLength(1);
    expect(await imageCount(stack)).toBe(before + 1);
  });

  it("before the upstream answers (JSON): a retry with the same key gets the answer without a second call", async () => {
    const before = await imageCount(stack);
    const abort = new AbortController();
    const key = { "idempotency-key": "leave-json" };
    const leaving = generateWith(stack, { prompt: "a fox [[hold]]" }, key, abort.signal).catch((e: Error) => e);
    await untilCalled(stack);
    abort.abort();
    expect(await leaving).toBeInstanceOf(Error);
    stack.standIn.release();
    const retry = await generate(stack, { prompt: "a fox [[hold]]" }, key);
    expect(retry.status).toBe(200);
    const answer = (await retry.json()) as { id: string; images: unknown[] };
    expect(answer.images).toHaveLength(1);
    expect((await ended(stack, answer.id)).status).toBe("succeeded");
    expect(stack.standIn.apiCalls).toHaveLength(1);
    expect(await imageCount(stack)).toBe(before + 1);
  });

  it("during previews: the generation finishes, one call, one image", async () => {
    const before = await imageCount(stack);
    const res = await generate(stack, { prompt: "a fox [[hold]] [[gap=5]]", model: "gpt-image-1", stream: true });
    const id = res.headers.get("x-generation-id") ?? "";
    const reader = sseReader(res);
    expect((await reader.next())?.event).toBe("started");
    expect((await reader.next())?.event).toBe("running");
    expect((await reader.next())?.event).toBe("partial");
    await res.body?.cancel().catch(() => undefined);
    stack.standIn.release();
    const view = await ended(stack, id);
    expect(view.status).toBe("succeeded");
    expect(stack.standIn.apiCalls).toHaveLength(1);
    expect(await imageCount(stack)).toBe(before + 1);
    const image = await stack.app(new URL((view.images as Array<{ url: string }>)[0]?.url ?? "").pathname);
    expect(image.status).toBe(200);
    await image.arrayBuffer();
  });

  it("while the image is decoded and stored (a 6 MiB final event, no client left)", async () => {
    const before = await imageCount(stack);
    const res = await generate(stack, {
      prompt: "a fox [[big=6]]",
      model: "gpt-image-1",
      stream: true,
      partial_images: 1,
    });
    const id = res.headers.get("x-generation-id") ?? "";
    const reader = sseReader(res);
    for (let e = await reader.next(); e && e.event !== "partial"; e = await reader.next());
    await res.body?.cancel().catch(() => undefined);
    const view = await ended(stack, id);
    expect(view.status).toBe("succeeded");
    expect(stack.standIn.apiCalls).toHaveLength(1);
    expect(await imageCount(stack)).toBe(before + 1);
  });
});

describe("joins, async answers and events", () => {
  it("a streamed retry with the same key attaches to the same events: one call", async () => {
    const key = { "idempotency-key": "join-stream" };
    const body = { prompt: "a fox [[hold]] [[gap=5]]", model: "gpt-image-1", stream: true };
    const one = await generate(stack, body, key);
    const first = sseReader(one);
    for (let e = await first.next(); e && e.event !== "partial"; e = await first.next());
    const two = await generate(stack, body, key);
    expect(two.headers.get("x-generation-id")).toBe(one.headers.get("x-generation-id"));
    stack.standIn.release();
    const [a, b] = await Promise.all([first.rest(), sseReader(two).rest()]);
    expect(a.at(-1)?.event).toBe("completed");
    expect(b.at(-1)).toEqual(a.at(-1));
    expect(stack.standIn.apiCalls).toHaveLength(1);
  });

  it("Prefer: respond-async answers 202 at once; polling GET gives the answer", async () => {
    const res = await generate(stack, { prompt: "a fox [[slow=300]]" }, { prefer: "respond-async" });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: string; status: string };
    expect(body.id).toMatch(/^gen_[0-9a-f]{32}$/);
    expect(["queued", "running"]).toContain(body.status);
    expect(res.headers.get("location")).toBe(`/api/generations/${body.id}`);
    expect(res.headers.get("preference-applied")).toBe("respond-async");
    expect(res.headers.get("x-generation-id")).toBe(body.id);
    const view = await ended(stack, body.id);
    expect(Object.keys(view).sort()).toEqual(["created", "id", "images", "model", "status", "usage"]);
    expect(stack.standIn.apiCalls).toHaveLength(1);
  });

  it("events resume after Last-Event-ID: no duplicates, no gaps", async () => {
    const res = await generate(stack, {
      prompt: "a fox [[hold]] [[gap=5]]",
      model: "gpt-image-1",
      stream: true,
      partial_images: 2,
    });
    const id = res.headers.get("x-generation-id") ?? "";
    const reader = sseReader(res);
    const seen = [await reader.next(), await reader.next(), await reader.next()];
    expect(seen.map((e) => e?.id)).toEqual(["1", "2", "2.p1"]);
    await res.body?.cancel().catch(() => undefined);
    const again = await stack.app(`/api/generations/${id}/events`, { headers: { "last-event-id": "2.p1" } });
    expect(again.headers.get("content-type")).toMatch(/^text\/event-stream/);
    stack.standIn.release();
    const rest = await sseReader(again).rest();
    expect(rest.map((e) => `${e.id} ${e.event}`)).toEqual(["2.p2 partial", "3 completed"]);
    // From the start: every durable event, the final answer the same.
    const all = await sseReader(await stack.app(`/api/generations/${id}/events`)).rest();
    expect(all.map((e) => e.event)).toEqual(["started", "running", "completed"]);
    expect(all[2]?.data).toEqual(rest[1]?.data);
    expect(stack.standIn.apiCalls).toHaveLength(1);
  });

  it("unknown, malformed and expired ids are 404 not_found", async () => {
    await expectError(await stack.app(`/api/generations/gen_${"0".repeat(32)}`), 404, "not_found");
    await expectError(await stack.app("/api/generations/gen_nope"), 404, "not_found");
    await expectError(await stack.app(`/api/generations/gen_${"0".repeat(32)}/events`), 404, "not_found");
    // GENERATION_TTL_HOURS=0.001 here: 3.6 s after the end the record is gone.
    const answer = (await (await generate(stack, { prompt: "a fox" })).json()) as { id: string };
    expect((await stack.app(`/api/generations/${answer.id}`)).status).toBe(200);
    await sleep(5_000);
    await expectError(await stack.app(`/api/generations/${answer.id}`), 404, "not_found");
  });
});

describe("n > 1", () => {
  it.each(["[[stream_n=each]]", "[[stream_n=one]]"])("n=3 streamed by the client (%s): 3 images", async (shape) => {
    const res = await generate(stack, { prompt: `a fox ${shape}`, model: "gpt-image-1", n: 3, stream: true });
    const events = await sseReader(res).rest();
    expect(events.map((e) => e.event)).toEqual(["started", "running", "completed"]);
    expect((events[2]?.data as { images?: unknown[] } | undefined)?.images).toHaveLength(3);
    // Asked without stream: the JSON answer's data[] holds every image.
    const sent = JSON.parse(stack.standIn.apiCalls[0]?.body.toString() ?? "{}");
    expect(sent.stream).toBeUndefined();
    expect(stack.standIn.apiCalls).toHaveLength(1);
  });

  it("fewer images than asked succeed with images_missing", async () => {
    const res = await generate(stack, { prompt: "a fox [[images=2]]", n: 3 });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { id: string; images: unknown[]; images_missing: number };
    expect(answer.images).toHaveLength(2);
    expect(answer.images_missing).toBe(1);
    expect((await (await stack.app(`/api/generations/${answer.id}`)).json()).images_missing).toBe(1);
  });
});
