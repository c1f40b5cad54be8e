import type { Context } from "hono";
import { EGRESS_ROUTE_HEADER } from "../egress";
import type { AppEnv } from "../env";
import { type ApiError, errorEnvelope } from "../errors";
import { publicError } from "../failures/public";
import type { Job } from "../generate/job";
import { deadline, type RunPlace, runJob } from "../generate/run";
import type { GenerateRequest } from "../generate/schema";
import { sseWriter } from "../generate/sse-writer";
import type { Admission } from "../guard/admission";

/** Whether the client asked for SSE, by body field or by Accept header. */
export function wantsStream(c: Context<AppEnv>, req: GenerateRequest): boolean {
  return (
    req.stream === true || (req.stream === undefined && (c.req.header("accept") ?? "").includes("text/event-stream"))
  );
}

/**
 * POST /api/generate/image as server-sent events: `started`, `partial` (as the upstream sends
 * them), heartbeat comments, then `completed` with exactly the non-streaming answer, or `error`
 * with the usual envelope. Models that can't stream still get started, heartbeats and completed.
 * Validation happens before the stream opens, so bad input is still a plain 4xx.
 */
export function streamGeneration(c: Context<AppEnv>, job: Job, req: GenerateRequest, admission: Admission): Response {
  const heartbeatMs = job.config.streamHeartbeatMs;
  const { signal, timedOut } = deadline(c.req.raw.signal, job.config.upstreamTimeoutMs);
  const sse = sseWriter();

  const run = async () => {
    const heartbeat = setInterval(() => {
      void sse.comment("keep-alive");
    }, heartbeatMs);
    try {
      await sse.send("started", { request_id: job.requestId, model: job.model });
      const answer =
        admission.replay ?? (await runJob(placeOf(c), job, req, signal, (partial) => sse.send("partial", partial)));
      if (!admission.replay) await admission.succeeded(answer);
      await sse.send("completed", answer);
    } catch (err) {
      const apiError: ApiError = publicError(err, timedOut(), job.log, job.config.upstreamTimeoutMs);
      job.log.warn("Streamed generation ended with an error", { code: apiError.code });
      await admission.failed();
      await sse.send("error", errorEnvelope(apiError, job.requestId));
    } finally {
      clearInterval(heartbeat);
      await sse.close();
    }
  };
  // The response goes out now and the events follow; the runtime keeps the request alive while
  // its body is still being written.
  run().catch((err: unknown) => {
    job.log.error("Streamed generation failed unexpectedly", { error: err instanceof Error ? err.name : "unknown" });
  });
  c.header("content-type", "text/event-stream");
  c.header("cache-control", "no-cache");
  return c.body(sse.body);
}

/** Where a job runs when an HTTP request runs it: this request's origin, the route as a header. */
export function placeOf(c: Context<AppEnv>): RunPlace {
  return {
    env: c.env,
    origin: new URL(c.req.url).origin,
    onRoute: (route) => c.header(EGRESS_ROUTE_HEADER, route),
  };
}
