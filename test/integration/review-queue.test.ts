/**
 * Review of issue 16 (fair queue): reproductions of defects found in review. Each test states
 * what the issue (or README) promises and fails while the defect is there.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generate } from "../helpers/api.ts";
import { sseReader } from "../helpers/sse.ts";
import { startStack } from "../helpers/stack.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ip = (i: number) => ({ "cf-connecting-ip": `198.51.100.${i}` });

describe("review: a restart mid-queue with nobody reading the queued generations", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("the queue resumes by itself: each waiting generation is sent in its turn, no grant is left unused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "review-queue-restart-"));
    dirs.push(dir);
    const options = {
      persistDir: dir,
      standIn: { imagesPerWindow: { images: 1, windowMs: 2000 } },
      appVars: { QUEUE_WINDOW_S: "2", OPENAI_IMAGES_PER_MINUTE: "1" },
    };
    const first = await startStack(options);
    try {
      // API clients that asked for 202 and will come back for the result later.
      for (const [i, prompt] of ["first", "second", "third", "fourth"].entries()) {
        const res = await generate(first, { prompt }, { prefer: "respond-async", ...ip(150 + i) });
        expect(res.status).toBe(202);
      }
    } finally {
      await first.stop();
    }
    const second = await startStack(options);
    try {
      // Nobody reads the generations: three windows (2 s + 0.1 s guard each) are plenty for the
      // three waiting ones to be sent one per window.
      const called = () =>
        second.standIn.apiCalls.map((r) => (JSON.parse(r.body.toString()) as { prompt: string }).prompt);
      for (let i = 0; i < 60 && called().length < 3; i++) await sleep(200);
      const ns = await second.mf.getDurableObjectNamespace("DISPATCH", "image-app");
      const stats = await (
        ns.get(ns.idFromName("openai")) as unknown as { stats(): Promise<{ inflight: number }> }
      ).stats();
      expect({ called: called(), inflight: stats.inflight }).toEqual({
        called: ["second", "third", "fourth"],
        inflight: 0,
      });
    } finally {
      await second.stop();
    }
  }, 45_000);

  it("clients coming back after the restart are sent within the limit: no 429 with OPENAI_IMAGES_PER_MINUTE set", async () => {
    const dir = mkdtempSync(join(tmpdir(), "review-queue-restart-"));
    dirs.push(dir);
    const options = {
      persistDir: dir,
      standIn: { imagesPerWindow: { images: 1, windowMs: 2000 } },
      appVars: { QUEUE_WINDOW_S: "2", OPENAI_IMAGES_PER_MINUTE: "1" },
    };
    const ids: string[] = [];
    const first = await startStack(options);
    try {
      for (const [i, prompt] of ["first", "second", "third", "fourth"].entries()) {
        const res = await generate(first, { prompt }, { prefer: "respond-async", ...ip(160 + i) });
        ids.push(((await res.json()) as { id: string }).id);
      }
    } finally {
      await first.stop();
    }
    const second = await startStack(options);
    try {
      await sleep(7000); // the clients poll again a few seconds after the restart
      const views = await Promise.all(ids.slice(1).map((id) => second.app(`/api/generations/${id}`)));
      for (const v of views) await v.body?.cancel();
      const status = async (id: string) =>
        ((await (await second.app(`/api/generations/${id}`)).json()) as { status: string }).status;
      for (let i = 0; i < 100; i++) {
        const all = await Promise.all(ids.slice(1).map(status));
        if (all.every((s) => s === "succeeded" || s === "failed")) break;
        await sleep(200);
      }
      // The limit is set to the stand-in's: the queue must never send past it.
      expect(second.standIn.rateLimited).toBe(0);
    } finally {
      await second.stop();
    }
  }, 60_000);
});

describe("review: issue 16's crowd with the default QUEUE_MAX_WAIT_S (test/integration/queue.test.ts raises it to 900)", () => {
  it("12 simultaneous clients, no OPENAI_IMAGES_PER_MINUTE: every client gets its image, none an error", async () => {
    const stack = await startStack({
      standIn: { imagesPerWindow: { images: 3, windowMs: 3000 } },
      appVars: { QUEUE_WINDOW_S: "3" },
    });
    try {
      const all = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const res = await generate(stack, { prompt: `client ${i}`, stream: true }, ip(30 + i));
          if (res.status !== 200)
            return `${res.status} ${((await res.json()) as { error: { code: string } }).error.code}`;
          return (await sseReader(res).rest()).at(-1)?.event;
        }),
      );
      expect(all).toEqual(Array(12).fill("completed"));
    } finally {
      await stack.stop();
    }
  }, 45_000);
});
