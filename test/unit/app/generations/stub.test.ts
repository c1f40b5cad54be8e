/**
 * A client waiting on a generation whose object is reset (a deploy, a crash): the stub it waited
 * on threw and stays broken, so the wait goes on through a fresh stub and gets the generation's
 * real end, never a 500 from the broken one.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AppBindings } from "../../../../workers/app/src/env";
import { newGenerationId } from "../../../../workers/app/src/generations/id";
import { type GenerationStub, waitForEnd } from "../../../../workers/app/src/generations/stub";
import { queuedRecord } from "./fixtures";

/** The app's env with the test subclass as its GENERATIONS namespace. */
const testEnv = { ...env, GENERATIONS: env.TEST_GENERATIONS } as unknown as AppBindings;

describe("waitForEnd across a reset of the object", () => {
  it("goes on with a fresh stub and gets the generation's end", async () => {
    const id = newGenerationId();
    const ns = env.TEST_GENERATIONS;
    const stub = ns.get(ns.idFromName(id)) as unknown as GenerationStub;
    const spec = { ...queuedRecord().spec, idempotency: undefined, budget: undefined };
    await stub.create(id, "gpt-image-1", spec);
    const waiting = waitForEnd(testEnv, id, stub);
    // Reset the object while the client waits (its turn has not come yet).
    // (workerd logs the reset's broken output gate: expected, it is what a deploy does to the object.)
    await expect(ns.get(ns.idFromName(id)).resetForTest()).rejects.toThrow("reset by the test");
    // The stub that saw the reset is broken for good (what the handler used to call again).
    await expect(stub.view()).rejects.toThrow();
    const result = await waiting;
    expect(result).not.toBeNull();
    // The fresh instance resumed the unsent generation; it ended (here on the unit env's missing settings).
    expect(result?.ok).toBe(false);
  });
});
