import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import type { GenerateAnswer, Job } from "../generate/job";
import type { GenerateRequest } from "../generate/schema";
import { sseWriter } from "../generate/sse-writer";
import type { GenerationStub } from "../generations/stub";
import type { GenerationError } from "../generations/types";

/** Whether the client asked for SSE, by body field or by Accept header. */
export function wantsStream(c: Context<AppEnv>, req: GenerateRequest): boolean {
  return (
    req.stream === true || (req.stream === undefined && (c.req.header("accept") ?? "").includes("text/event-stream"))
  );
}

/**
 * A generation as server-sent events: the object's own stream (`started` with the generation id,
 * `running`, previews, heartbeats, then `completed` with exactly the JSON answer or `error` with
 * the envelope), each event with an `id:`. The body is piped as the object wrote it, never read
 * here. `lastEventId` resumes after what a client already has. 404 for an unknown id.
 */
export async function eventsAnswer(
  c: Context<AppEnv>,
  generation: GenerationStub,
  id: string,
  lastEventId: string | null | undefined,
): Promise<Response> {
  const res = await generation.fetch("https://generation/events", {
    headers: lastEventId ? { "last-event-id": lastEventId } : {},
  });
  if (res.status === 404) {
    await res.body?.cancel();
    throw new ApiError("not_found", `No generation ${id}.`);
  }
  return new Response(res.body, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "X-Generation-Id": id,
      "X-Request-Id": c.get("requestId"),
    },
  });
}

/** A generation's error (the envelope's inner object) as the answer, its Retry-After as a header too. */
export function errorAnswer(c: Context<AppEnv>, error: GenerationError, status: number): Response {
  if (error.retry_after !== undefined) c.header("Retry-After", String(error.retry_after));
  return c.json({ error }, status as ContentfulStatusCode);
}

/**
 * An answer stored by the idempotency store before durable generations, replayed as a stream:
 * `started` and `completed`. Goes once the old entries have expired (24 h after deploy).
 */
export function replayStream(c: Context<AppEnv>, job: Job, answer: GenerateAnswer): Response {
  const sse = sseWriter();
  void (async () => {
    await sse.send("started", { request_id: job.requestId, model: job.model });
    await sse.send("completed", answer);
    await sse.close();
  })();
  c.header("content-type", "text/event-stream");
  c.header("cache-control", "no-cache");
  return c.body(sse.body);
}
