/**
 * Review of issue 16: a grant nobody will use must not stay held. generations/turn.ts
 * `reportCall` gives up on a generation after MAX_TURNS rate-limited turns by releasing it (which
 * requeues it) and then cancelling it; if the dispatcher granted the requeued entry in between
 * (OpenAI's wait was shorter than the next RPC), the cancel finds nothing waiting and the grant,
 * never released, holds its concurrency slot until STALE_GRANT_MS (15 min).
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advance, dispatcher, peek } from "./dispatcher-helpers";

describe("review: reportCall's release-then-cancel after the last turn", () => {
  it("leaves no grant behind: the next client's generation gets the free slot", async () => {
    const stub = await dispatcher({ maxConcurrent: 1 });
    expect(await stub.acquire("g", "c1", 1)).toEqual({ granted: true });
    // The third turn's 429, with a short wait hint: the dispatcher requeues it (release).
    const limited = {
      kind: "failed",
      status: 429,
      code: "rate_limit_exceeded",
      headers: { "retry-after-ms": "1" },
    } as const;
    expect(await stub.release("g", limited)).toEqual({ requeued: true });
    // The hint has passed before reportCall's cancel arrives: the alarm grants g again.
    await advance(stub, 5);
    await runDurableObjectAlarm(stub);
    // reportCall: grants >= MAX_TURNS, so cancel; the generation ends upstream_rate_limited and
    // never calls release again.
    await stub.cancel("g");
    const h = stub.acquire("h", "c2", 1);
    await advance(stub, 61_001);
    await runDurableObjectAlarm(stub);
    expect(await peek(h)).toEqual({ granted: true });
  });
});
