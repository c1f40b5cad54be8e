/**
 * POST /api/generate/image: validate the body, prepare the job, pass the guards, then hand the
 * generation to its Durable Object (generations/object.ts) and answer from it: one JSON document
 * (waiting for the end), server-sent events (the object's stream, piped), or `202` at once for
 * `Prefer: respond-async`. The object owns the call: a client that leaves does not stop it.
 */
import type { Context } from "hono";
import { validator } from "hono/validator";
import * as z from "zod/mini";
import { getConfig } from "../config";
import { EGRESS_ROUTE_HEADER } from "../egress";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { prepareJob } from "../generate/job";
import { describeIssue, type GenerateRequest, generateRequestSchema } from "../generate/schema";
import { newGenerationId } from "../generations/id";
import type { WaitResult } from "../generations/record";
import { type GenerationStub, generationOf } from "../generations/stub";
import type { GenerationSpec } from "../generations/types";
import { admit } from "../guard/admission";
import { errorAnswer, eventsAnswer, replayStream, wantsStream } from "./generate-stream";

/** Middleware in front of `generate`: the body checked against the schema; a bad field answers 400 invalid_request naming it. */
export const validGenerateRequest = validator("json", (body) => {
  const result = z.safeParse(generateRequestSchema, body);
  if (result.success) return result.data;
  const { param, message } = describeIssue(result.error);
  throw new ApiError("invalid_request", message, { param });
});

/** What the handler sees after validGenerateRequest: the typed body. */
type ValidatedBody = { in: { json: unknown }; out: { json: GenerateRequest } };

/** `Prefer: respond-async` (RFC 7240), among other preferences. */
const respondAsync = (c: Context<AppEnv>) => /(^|[,;\s])respond-async(\s*($|[,;]))/i.test(c.req.header("prefer") ?? "");

/** The route's last step: prepare the job, pass the guards, create or join the generation, answer. */
export async function generate(c: Context<AppEnv, string, ValidatedBody>): Promise<Response> {
  const req = c.req.valid("json");
  const streaming = wantsStream(c, req);
  const from = { config: getConfig(c.env), requestId: c.get("requestId"), log: c.get("log") };
  const job = prepareJob(from, req, streaming);
  const newId = newGenerationId();
  const admission = await admit(c, job, req, newId);
  if (admission.replay) return streaming ? replayStream(c, job, admission.replay) : c.json(admission.replay);

  const id = admission.join ?? newId;
  const generation = generationOf(c.env, id);
  let status: string | undefined;
  if (!admission.join) {
    const spec: GenerationSpec = {
      request: req,
      client: c.get("client"),
      request_id: job.requestId,
      origin: new URL(c.req.url).origin,
      upstream: { stream: job.upstreamStream, partial_images: job.partialImages },
      ...(admission.idempotency ? { idempotency: admission.idempotency } : {}),
      ...(admission.budget ? { budget: admission.budget } : {}),
    };
    try {
      // A JSON client: create and wait in one round trip.
      if (!streaming && !respondAsync(c)) return answerWith(c, id, await generation.createAndWait(id, job.model, spec));
      ({ status } = await generation.create(id, job.model, spec));
      // Ended at once (queue_full): the POST answers the error, whatever the client asked for.
      if (status === "failed") return answerWith(c, id, await generation.wait());
    } catch (err) {
      // Broken before the object had the generation: free the guards. After: wait for its end.
      if ((await generation.view().catch(() => null)) !== null) return waitAnswer(c, generation, id);
      await admission.release();
      throw err;
    }
  }
  if (respondAsync(c)) {
    status ??= (await generation.view())?.status;
    c.header("Location", `/api/generations/${id}`);
    c.header("Preference-Applied", "respond-async");
    c.header("Retry-After", "2");
    c.header("X-Generation-Id", id);
    return c.json({ id, status: status ?? "queued" }, 202);
  }
  if (streaming) return eventsAnswer(c, generation, id, null);
  return waitAnswer(c, generation, id);
}

/** The JSON answer: waits for the generation's end (a joined retry waits for the same one). */
async function waitAnswer(c: Context<AppEnv>, generation: GenerationStub, id: string) {
  let result: WaitResult | null;
  try {
    result = await generation.wait();
  } catch {
    // The object was reset while we waited (a deploy): its record says how the generation ended.
    await generation.view();
    result = await generation.wait();
  }
  return answerWith(c, id, result);
}

/** A generation's end as the JSON answer, or its error envelope with the error's status. */
function answerWith(c: Context<AppEnv>, id: string, result: WaitResult | null): Response {
  if (!result) throw new ApiError("not_found", `No generation ${id}.`);
  if (!result.ok) return errorAnswer(c, result.error, result.status);
  if (result.route) c.header(EGRESS_ROUTE_HEADER, result.route);
  return c.json(result.answer);
}
