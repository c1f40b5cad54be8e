import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AppBindings } from "../../../../workers/app/src/env";
import { ApiError } from "../../../../workers/app/src/errors";
import { generationLog, type RunResult } from "../../../../workers/app/src/generations/run";
import {
  MAX_TURNS,
  queueOf,
  rateLimited,
  rateLimitHeaders,
  releaseOutcome,
  reportPending,
  reportRateLimited,
  retried,
  turnEnd,
} from "../../../../workers/app/src/generations/turn";
import { queuedRecord } from "./fixtures";

const failed = (code: ConstructorParameters<typeof ApiError>[0]): RunResult => ({
  outcome: "failed_definite_answer",
  error: new ApiError(code, "x"),
});
const succeeded: RunResult = {
  outcome: "succeeded",
  answer: { id: "gen_x", created: 1, model: "gpt-image-1", images: [] },
};
const HINT = { "retry-after": "3", "x-ratelimit-remaining-requests": "0" };

describe("a generation's side of the queue", () => {
  it("a full queue is a queue_full end with a Retry-After of 1 s to an hour; expired and cancelled end too", () => {
    const full = turnEnd({ full: true, retryAfterS: 7200 });
    expect(full?.outcome).toBe("queue_full");
    expect(full?.error.headers["Retry-After"]).toBe("3600");
    expect(turnEnd({ full: true, retryAfterS: 0 })?.error.headers["Retry-After"]).toBe("1");
    expect(turnEnd({ expired: true })?.error.code).toBe("queue_timeout");
    expect(turnEnd({ cancelled: true })?.error.code).toBe("cancelled");
    expect(turnEnd({ granted: true })).toBeUndefined();
    expect(turnEnd({ queued: true, position: 2, etaS: 9 })).toBeUndefined();
  });

  it("only OpenAI's rate-limit 429 is requeued; insufficient_quota and other failures are released", () => {
    const limited = { status: 429, headers: HINT };
    expect(rateLimited(failed("upstream_rate_limited"), limited)).toBe(true);
    expect(releaseOutcome(failed("upstream_rate_limited"), limited)).toEqual({
      kind: "failed",
      status: 429,
      code: "rate_limit_exceeded",
      headers: HINT,
    });
    // Out of quota (worded upstream_error): waiting does not fix it.
    expect(rateLimited(failed("upstream_error"), limited)).toBe(false);
    expect(releaseOutcome(failed("upstream_error"), limited)).toMatchObject({ code: "insufficient_quota" });
    expect(rateLimited(failed("upstream_rate_limited"), undefined)).toBe(false);
    expect(releaseOutcome(failed("upstream_error"), undefined)).toEqual({ kind: "failed" });
    expect(releaseOutcome(succeeded, { status: 200, headers: HINT })).toEqual({ kind: "done", headers: HINT });
  });

  it("passes on only the headers the dispatcher learns from", () => {
    const headers = new Headers({ ...HINT, "retry-after-ms": "2500", "set-cookie": "a=b", "x-request-id": "req_1" });
    expect(rateLimitHeaders(headers)).toEqual({ ...HINT, "retry-after-ms": "2500" });
  });

  it("calls a broken RPC again (a dispatcher restart), and stops once the generation ended", async () => {
    let calls = 0;
    const flaky = () => (++calls < 3 ? Promise.reject(new Error("reset")) : Promise.resolve("ok"));
    expect(await retried(flaky)).toBe("ok");
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      retried(
        () => Promise.reject(new Error(`reset ${++calls}`)),
        () => true,
      ),
    ).rejects.toThrow("reset 1");
  });

  it("a report owed after the end that the dispatcher requeues (the 429's first report was heard after all) takes it out of the queue", async () => {
    const appEnv = env as unknown as AppBindings;
    const queue = queueOf(appEnv);
    const gen = `gen_${"7".repeat(32)}`;
    expect(await queue.enter(gen, "ip:192.0.2.7", 1)).toEqual({ granted: true });
    const report = {
      kind: "failed",
      status: 429,
      code: "rate_limit_exceeded",
      headers: { "retry-after": "5" },
    } as const;
    // Heard by the dispatcher, though the generation never got the answer: it is waiting again.
    expect(await queue.release(gen, report)).toEqual({ requeued: true });
    const record = queuedRecord({ id: gen, phase: "ended", status: "failed", grants: 1, report });
    expect(await reportPending(appEnv, (g, o) => queue.release(g, o), record, generationLog(appEnv, record))).toBe(
      true,
    );
    expect(record.report).toBeUndefined();
    // Out of the queue: nothing left to cancel, nobody waiting.
    expect(await queue.cancel(gen)).toBe(false);
  });

  it("the last turn's 429 frees the grant in one call: a re-grant between a requeue and a cancel cannot leave it held", async () => {
    const appEnv = env as unknown as AppBindings;
    // A dispatcher of its own: the file's others hold a block from the test before.
    const ns = appEnv.DISPATCH as DurableObjectNamespace;
    const queue = ns.get(ns.idFromName("turn-test-final")) as unknown as ReturnType<typeof queueOf>;
    const gen = `gen_${"8".repeat(32)}`;
    const client = "ip:192.0.2.8";
    expect(await queue.enter(gen, client, 1)).toEqual({ granted: true });
    const report = {
      kind: "failed",
      status: 429,
      code: "rate_limit_exceeded",
      headers: { "retry-after": "0" },
    } as const;
    const record = queuedRecord({ id: gen, phase: "sent", status: "running", grants: MAX_TURNS });
    // OpenAI's hint is shorter than the gap between two RPCs: a requeued entry is granted again
    // at once (its generation asks), before any cancel could reach it.
    const release = async (g: string, o: Parameters<typeof queue.release>[1]) => {
      const answer = await queue.release(g, o);
      if ("requeued" in answer) await queue.acquire(g, client, 1);
      return answer;
    };
    const log = generationLog(appEnv, record);
    expect(await reportRateLimited(release, record, report, log)).toBe("heard");
    const stats = await (queue as unknown as { stats(): Promise<{ inflight: number; queued: number }> }).stats();
    expect({ inflight: stats.inflight, queued: stats.queued }).toEqual({ inflight: 0, queued: 0 });
  });
});
