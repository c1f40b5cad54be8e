import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectError, generate } from "../helpers/api.ts";
import { sseReader } from "../helpers/sse.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());
beforeEach(() => stack.standIn.reset());

const withKey = (key: string, extra: Record<string, string> = {}) => ({ "idempotency-key": key, ...extra });

describe("Idempotency-Key", () => {
  it("a repeat returns the same answer (same image URLs) without another upstream call", async () => {
    const first = await generate(stack, { prompt: "a cat", n: 2 }, withKey("order-1"));
    expect(first.status).toBe(200);
    const a = await first.json();
    // Same request in another key order: the same request.
    const again = await generate(stack, { n: 2, prompt: "a cat" }, withKey("order-1"));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(a);
    expect(stack.standIn.apiCalls).toHaveLength(1);
  });

  it("the same key with a different body is 422", async () => {
    const first = await generate(stack, { prompt: "a cat" }, withKey("order-2"));
    await first.arrayBuffer();
    await expectError(await generate(stack, { prompt: "a dog" }, withKey("order-2")), 422, "idempotency_key_reused");
    expect(stack.standIn.apiCalls).toHaveLength(1);
  });

  it("a repeat while the first still runs joins it: the same answer, one upstream call", async () => {
    const slow = generate(stack, { prompt: "a slow cat [[slow=800]]" }, withKey("order-3"));
    for (let i = 0; i < 100 && stack.standIn.apiCalls.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const repeat = await generate(stack, { prompt: "a slow cat [[slow=800]]" }, withKey("order-3"));
    expect(repeat.status).toBe(200);
    const first = await slow;
    expect(first.status).toBe(200);
    expect(await repeat.json()).toEqual(await first.json());
    expect(stack.standIn.apiCalls).toHaveLength(1);
  });

  it("a failed call frees its key for a retry", async () => {
    await expectError(
      await generate(stack, { prompt: "a cat [[server_error]]" }, withKey("order-4")),
      502,
      "upstream_error",
    );
    const retry = await generate(stack, { prompt: "a cat [[server_error]]" }, withKey("order-4"));
    await expectError(retry, 502, "upstream_error");
    expect(stack.standIn.apiCalls).toHaveLength(2);
  });

  it("keys belong to a client: another client's same key is a new request", async () => {
    const one = await generate(stack, { prompt: "a cat" }, withKey("shared", { "cf-connecting-ip": "192.0.2.10" }));
    const two = await generate(stack, { prompt: "a cat" }, withKey("shared", { "cf-connecting-ip": "192.0.2.11" }));
    expect((await one.json()).images[0].url).not.toBe((await two.json()).images[0].url);
    expect(stack.standIn.apiCalls).toHaveLength(2);
  });

  it("a streamed repeat replays the generation's events with the same answer", async () => {
    const first = await (await generate(stack, { prompt: "a fox", stream: true }, withKey("order-5"))).text();
    const repeat = await generate(stack, { prompt: "a fox", stream: true }, withKey("order-5"));
    expect(repeat.headers.get("content-type"), await repeat.clone().text()).toMatch(/event-stream/);
    const events = await sseReader(repeat).rest();
    expect(events.map((e) => e.event)).toEqual(["started", "running", "completed"]);
    expect(first).toContain(JSON.stringify(events[2]?.data));
    expect(stack.standIn.apiCalls).toHaveLength(1);
  });

  it("an unusable key is a 400", async () => {
    await expectError(await generate(stack, { prompt: "a" }, withKey("x".repeat(256))), 400, "invalid_request");
    expect(stack.standIn.apiCalls).toHaveLength(0);
  });

  it("answers survive a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "idem-state-"));
    try {
      const before = await startStack({ persistDir: dir });
      const a = await (await generate(before, { prompt: "a cat" }, withKey("order-6"))).json();
      await before.stop();
      const after = await startStack({ persistDir: dir });
      try {
        const b = await (await generate(after, { prompt: "a cat" }, withKey("order-6"))).json();
        expect(b).toEqual(a);
        expect(after.standIn.apiCalls).toHaveLength(0);
        // The image itself was kept too.
        const image = await after.app(new URL(b.images[0].url).pathname);
        expect(image.status).toBe(200);
        await image.arrayBuffer();
      } finally {
        await after.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
