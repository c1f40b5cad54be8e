/**
 * A restart of the runtime while a generation's call is in flight (a crash, a deploy): the
 * generation ends `failed` / `generation_interrupted` (never stuck in `running`), it is not
 * retried (it may have been billed), and its Idempotency-Key is free again. Both ways it is
 * found: a fresh instance asked at once, and the alarm when nobody asks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { generate } from "../helpers/api.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** 3 s, so the alarm's margin is its minimum, 1 s. */
const VARS = { UPSTREAM_TIMEOUT_MS: "3000" };
const KEY = { "idempotency-key": "restart-1" };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A stack with a generation held mid-call, stopped: the folder and the generation's id. */
async function interruptedRun(): Promise<{ dir: string; id: string; sentAt: number }> {
  const dir = mkdtempSync(join(tmpdir(), "gen-restart-"));
  dirs.push(dir);
  const first = await startStack({ appVars: VARS, persistDir: dir });
  const res = await generate(first, { prompt: "a cat [[hold]]", stream: true }, KEY);
  const id = res.headers.get("x-generation-id") ?? "";
  while (first.standIn.apiCalls.length === 0) await sleep(20);
  const sentAt = Date.now();
  await res.body?.cancel().catch(() => undefined);
  await first.stop();
  return { dir, id, sentAt };
}

async function viewOf(s: Stack, id: string) {
  const res = await s.app(`/api/generations/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string; error?: { code: string } };
}

describe("a restart mid-call", () => {
  it("a fresh instance ends it as generation_interrupted at once; the key then starts a new generation", async () => {
    const { dir, id } = await interruptedRun();
    const second = await startStack({ appVars: VARS, persistDir: dir });
    try {
      const view = await viewOf(second, id);
      expect(view.status).toBe("failed");
      expect(view.error?.code).toBe("generation_interrupted");
      expect(second.standIn.apiCalls).toHaveLength(0);
      // Released: the same key runs again (one new call), and a repeat then joins the new one.
      const again = await generate(second, { prompt: "a cat [[hold]]", stream: true }, KEY);
      expect(again.status).toBe(200);
      const newId = again.headers.get("x-generation-id");
      expect(newId).not.toBe(id);
      const joined = generate(second, { prompt: "a cat [[hold]]", stream: true }, KEY);
      while (second.standIn.apiCalls.length === 0) await sleep(20);
      await sleep(300);
      second.standIn.release();
      expect(await again.text()).toContain("event: completed");
      const repeat = await joined;
      expect(repeat.headers.get("x-generation-id")).toBe(newId);
      expect(await repeat.text()).toContain("event: completed");
      expect(second.standIn.apiCalls).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });

  it("with nobody asking, the alarm ends it UPSTREAM_TIMEOUT_MS and a margin after it was sent", async () => {
    const { dir, id, sentAt } = await interruptedRun();
    const second = await startStack({ appVars: VARS, persistDir: dir });
    try {
      await sleep(Math.max(0, sentAt + 3000 + 1000 + 1500 - Date.now()));
      // Ended before any request reached it: by the alarm.
      expect(second.logs.join("\n")).toMatch(/Generation interrupted/);
      const view = await viewOf(second, id);
      expect(view.status).toBe("failed");
      expect(view.error?.code).toBe("generation_interrupted");
      expect(second.standIn.apiCalls).toHaveLength(0);
    } finally {
      await second.stop();
    }
  });
});
