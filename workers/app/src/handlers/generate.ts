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
import { type GenerateAnswer, type Job, prepareJob } from "../generate/job";
import { describeIssue, type GenerateRequest, generateRequestSchema } from "../generate/schema";
import { newGenerationId } from "../generations/id";
import type { WaitResult } from "../generations/record";
import { type GenerationStub, generationOf, waitForEnd } from "../generations/stub";
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

/** How long a key's generation may take to exist after the key was taken (its first request's admission). */
const JOIN_GRACE_MS = 30_000;

/** The route's last step: prepare the job, pass the guards, create or join the generation, answer. */
export async function generate(c: Context<AppEnv, string, ValidatedBody>): Promise<Response> {
  const req = c.req.valid("json");
  const streaming = wantsStream(c, req);
  const from = { config: getConfig(c.env), requestId: c.get("requestId"), log: c.get("log") };
  const job = prepareJob(from, req, streaming);
  // Admission and create as one promise the runtime keeps after a disconnect: a client that hangs
  // up between taking the key and creating the generation must not leave the key on nothing.
  const starting = start(c, job, req, !streaming && !respondAsync(c));
  keep(c, starting);
  const started = await starting;
  if ("replay" in started) {
    return streaming ? replayStream(c, job, started.replay) : c.json(started.replay);
  }
  const { id, generation } = started;
  if ("result" in started) return answerWith(c, id, started.result);
  // Ended at once (queue_full): the POST answers the error, whatever the client asked for.
  if (started.status === "failed") return answerWith(c, id, await generation.wait());
  // From here the generation exists: even an error answer names it (a retry with the key joins it).
  c.header("X-Generation-Id", id);
  if (respondAsync(c)) {
    const status = started.status ?? (await generation.view())?.status;
    c.header("Location", `/api/generations/${id}`);
    c.header("Preference-Applied", "respond-async");
    c.header("Retry-After", "2");
    return c.json({ id, status: status ?? "queued" }, 202);
  }
  if (streaming) return eventsAnswer(c, generation, id, null);
  // The JSON answer: the generation's end (a joined retry waits for the same one).
  return answerWith(c, id, await waitForEnd(c.env, id, generation));
}

type Started =
  | { replay: GenerateAnswer }
  | { id: string; generation: GenerationStub; status?: string }
  | { id: string; generation: GenerationStub; result: WaitResult | null };

/**
 * The guards, then the generation created (for a JSON client: created and waited for, in one
 * round trip) or joined. A joined key whose generation does not exist yet is a race with its
 * first request: 409 request_in_progress while the key is young, else the key is freed (that
 * request died before creating it) and admitted once more.
 */
async function start(
  c: Context<AppEnv>,
  job: Job,
  req: GenerateRequest,
  json: boolean,
  again = false,
): Promise<Started> {
  const newId = newGenerationId();
  // Before the guards: a missing binding must not leave a key or a hold taken.
  let generation = generationOf(c.env, newId);
  const admission = await admit(c, job, req, newId);
  if (admission.replay) return { replay: admission.replay };
  if (admission.join) {
    const id = admission.join;
    generation = generationOf(c.env, id);
    if ((await generation.view()) !== null) return { id, generation };
    if (again || Date.now() - (admission.joinedAt ?? 0) < JOIN_GRACE_MS) {
      throw new ApiError("request_in_progress", "A request with this Idempotency-Key is starting. Retry shortly.", {
        headers: { "Retry-After": "1" },
      });
    }
    await admission.release();
    return start(c, job, req, json, true);
  }
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
    if (json) return { id: newId, generation, result: await generation.createAndWait(newId, job.model, spec) };
    return { id: newId, generation, status: (await generation.create(newId, job.model, spec)).status };
  } catch (err) {
    // A stub that threw stays broken: a fresh one tells whether the object has the generation.
    // It has: answer as asked. It has not: free the guards. Cannot tell: keep them (its alarm
    // or the hold's expiry settles them); a retry with the key joins or waits.
    generation = generationOf(c.env, newId);
    const view = await generation.view().catch(() => undefined);
    if (view === null) await admission.release();
    if (!view) throw err;
    return { id: newId, generation };
  }
}

/** Keeps `work` running after the client left (about 30 s), where the runtime allows it. */
function keep(c: Context<AppEnv>, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work.catch(() => undefined));
  } catch {
    // No execution context (app.request in a unit test): nothing to keep it for.
  }
}

/** A generation's end as the JSON answer, or its error envelope with the error's status. */
function answerWith(c: Context<AppEnv>, id: string, result: WaitResult | null): Response {
  if (!result) throw new ApiError("not_found", `No generation ${id}.`);
  if (!result.ok) return errorAnswer(c, result.error, result.status);
  if (result.route) c.header(EGRESS_ROUTE_HEADER, result.route);
  return c.json(result.answer);
}
