import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * The dispatcher as deployed: the app's bundle and wrangler.toml in workerd, its settings from
 * vars, real time and its own alarm (the unit tests move a clock and run alarms by hand).
 */
let stack: Stack;
let dispatch: DispatchRpc;

/** The RPC surface of workers/app/src/queue/dispatcher.ts as seen from Node (no workers types here). */
interface DispatchRpc {
  acquire(gen: string, client: string, images: number): Promise<Record<string, unknown>>;
  position(gen: string): Promise<{ position: number; etaS: number } | null>;
  release(gen: string, outcome: { kind: "done" | "failed"; headers?: Record<string, string> }): Promise<unknown>;
  cancel(gen: string): Promise<boolean>;
  stats(): Promise<Record<string, unknown>>;
}

beforeAll(async () => {
  stack = await startStack({ appVars: { OPENAI_IMAGES_PER_MINUTE: "2", QUEUE_WINDOW_S: "1", QUEUE_MAX_LENGTH: "3" } });
  const ns = await stack.mf.getDurableObjectNamespace("DISPATCH", "image-app");
  dispatch = ns.get(ns.idFromName("openai")) as unknown as DispatchRpc;
});
afterAll(() => stack?.stop());

describe("Dispatcher in the app's bundle", () => {
  it("reads its settings from vars and grants the waiting ones when its alarm finds the window slid", async () => {
    expect(await dispatch.acquire("a", "ip:198.51.100.1", 1)).toEqual({ granted: true });
    expect(await dispatch.acquire("b", "ip:198.51.100.2", 1)).toEqual({ granted: true });
    const started = Date.now();
    const c = dispatch.acquire("c", "ip:198.51.100.3", 1);
    expect(await dispatch.stats()).toMatchObject({ queued: 1, inflight: 2, limit: 2, windowImages: 2 });
    expect(await dispatch.position("c")).toEqual({ position: 1, etaS: 1 });
    await dispatch.release("a", { kind: "done", headers: { "x-ratelimit-remaining-requests": "5" } });
    await dispatch.release("b", { kind: "done" });
    expect(await c).toEqual({ granted: true });
    // Granted by the alarm once the 1 s window had slid past a and b, not before.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await dispatch.release("c", { kind: "done" });
  });

  it("refuses past QUEUE_MAX_LENGTH with a Retry-After, and cancels the waiting without a trace", async () => {
    await new Promise((r) => setTimeout(r, 1100)); // an empty window
    for (const gen of ["d", "e"]) expect(await dispatch.acquire(gen, "ip:198.51.100.4", 1)).toEqual({ granted: true });
    const waiting = ["f", "g", "h"].map((gen) => dispatch.acquire(gen, "ip:198.51.100.5", 1));
    expect(await dispatch.stats()).toMatchObject({ queued: 3 });
    const full = await dispatch.acquire("i", "ip:198.51.100.6", 1);
    expect(full).toMatchObject({ full: true });
    expect((full as { retryAfterS: number }).retryAfterS).toBeGreaterThanOrEqual(1);
    for (const gen of ["f", "g", "h"]) expect(await dispatch.cancel(gen)).toBe(true);
    expect(await Promise.all(waiting)).toEqual([{ cancelled: true }, { cancelled: true }, { cancelled: true }]);
    expect(await dispatch.stats()).toMatchObject({ queued: 0, inflight: 2 });
  });
});
