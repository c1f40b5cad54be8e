/**
 * The dispatcher hears how a call went after the client does, never before (issue 15's cost
 * target: no RPC on the answer's path), and hears it all the same when the object dies in
 * between. The app runs with a test seam (test/unit/held-release-app.ts) that holds the
 * generation's `release` until the test lets it go, so "not yet heard" is a state, not a race.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { generate } from "../helpers/api.ts";
import { sseReader } from "../helpers/sse.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const HELD = "test/unit/held-release-app.ts";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface DispatchStats {
  inflight: number;
  queued: number;
}

async function statsOf(s: Stack): Promise<DispatchStats> {
  const ns = await s.mf.getDurableObjectNamespace("DISPATCH", "image-app");
  return (ns.get(ns.idFromName("openai")) as unknown as { stats(): Promise<DispatchStats> }).stats();
}

/** Lets generation `id`'s held reports go (the seam's RPC). */
async function letGo(s: Stack, id: string): Promise<number> {
  const ns = await s.mf.getDurableObjectNamespace("GENERATIONS", "image-app");
  return (ns.get(ns.idFromName(id)) as unknown as { letGo(): Promise<number> }).letGo();
}

/** Resolves with `promise`'s value, or null after `ms`: an answer held behind the report never comes. */
const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise, sleep(ms).then(() => null)]);

async function inflightBecomes(s: Stack, n: number, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let inflight = (await statsOf(s)).inflight;
  while (inflight !== n && Date.now() < until) {
    await sleep(100);
    inflight = (await statsOf(s)).inflight;
  }
  return inflight;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the report to the dispatcher, after the end", () => {
  it("the JSON answer and the completed event arrive while the dispatcher has not heard the release", async () => {
    // A known limit: without one, the dispatcher's probe holds a second call behind an open grant.
    const appVars = { HOLD_RELEASE: "1", OPENAI_IMAGES_PER_MINUTE: "60" };
    const stack = await startStack({ appEntry: HELD, appVars });
    try {
      const res = await within(generate(stack, { prompt: "a cat" }), 5000);
      expect(res?.status, "the JSON answer waited for the dispatcher").toBe(200);
      const answer = (await (res as Response).json()) as { id: string; images: unknown[] };
      expect(answer.images).toHaveLength(1);

      const streamed = await generate(stack, { prompt: "a dog", stream: true });
      const streamId = streamed.headers.get("x-generation-id") ?? "";
      const events = await within(sseReader(streamed).rest(), 5000);
      expect(events?.at(-1)?.event, "the completed event waited for the dispatcher").toBe("completed");

      // Both grants still open: neither release has reached the dispatcher yet.
      expect((await statsOf(stack)).inflight).toBe(2);
      expect(await letGo(stack, answer.id)).toBe(1);
      expect(await letGo(stack, streamId)).toBe(1);
      expect(await inflightBecomes(stack, 0, 5000)).toBe(0);
      expect(stack.standIn.apiCalls).toHaveLength(2);
    } finally {
      await stack.stop();
    }
  });

  it("a restart between the end and the release: the alarm sends it, the grant is freed long before it goes stale", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gen-release-"));
    dirs.push(dir);
    const vars = { UPSTREAM_TIMEOUT_MS: "3000" };
    const first = await startStack({ appEntry: HELD, appVars: { ...vars, HOLD_RELEASE: "1" }, persistDir: dir });
    let id = "";
    try {
      const res = await within(generate(first, { prompt: "a cat" }), 5000);
      expect(res?.status).toBe(200);
      id = ((await (res as Response).json()) as { id: string }).id;
      expect((await statsOf(first)).inflight).toBe(1);
    } finally {
      await first.stop();
    }
    // The app as deployed, and nobody asks the generation: only its alarm can send the report.
    const second = await startStack({ appVars: vars, persistDir: dir });
    try {
      expect((await statsOf(second)).inflight).toBe(1);
      // The alarm is due UPSTREAM_TIMEOUT_MS and a 1 s margin after the call was sent.
      expect(await inflightBecomes(second, 0, 8000)).toBe(0);
      // Ended before the restart (neither interrupted nor recovered from its images): only the report was left.
      expect(second.logs.join("\n")).not.toMatch(/Generation (interrupted|recovered)/);
      const view = (await (await second.app(`/api/generations/${id}`)).json()) as { status: string };
      expect(view.status).toBe("succeeded");
      expect(second.standIn.apiCalls).toHaveLength(0);
    } finally {
      await second.stop();
    }
  }, 30_000);
});
