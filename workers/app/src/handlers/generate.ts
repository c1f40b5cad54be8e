/**
 * POST /api/generate/image: validate the body, prepare the job, pass the guards, then run it and
 * answer with one JSON document or as server-sent events (generate-stream.ts).
 */
import type { Context } from "hono";
import { validator } from "hono/validator";
import * as z from "zod/mini";
import { getConfig } from "../config";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { publicError } from "../failures/public";
import { type GenerateAnswer, type Job, prepareJob } from "../generate/job";
import { deadline, runJob } from "../generate/run";
import { describeIssue, type GenerateRequest, generateRequestSchema } from "../generate/schema";
import { type Admission, admit } from "../guard/admission";
import { placeOf, streamGeneration, wantsStream } from "./generate-stream";

/** Middleware in front of `generate`: the body checked against the schema; a bad field answers 400 invalid_request naming it. */
export const validGenerateRequest = validator("json", (body) => {
  const result = z.safeParse(generateRequestSchema, body);
  if (result.success) return result.data;
  const { param, message } = describeIssue(result.error);
  throw new ApiError("invalid_request", message, { param });
});

/** What the handler sees after validGenerateRequest: the typed body. */
type ValidatedBody = { in: { json: unknown }; out: { json: GenerateRequest } };

/** The route's last step: prepare the job, pass the guards, answer as JSON or as a stream. */
export async function generate(c: Context<AppEnv, string, ValidatedBody>): Promise<Response> {
  const req = c.req.valid("json");
  const streaming = wantsStream(c, req);
  const from = { config: getConfig(c.env), requestId: c.get("requestId"), log: c.get("log") };
  const job = prepareJob(from, req, streaming);
  const admission = await admit(c, job, req);
  return streaming ? streamGeneration(c, job, req, admission) : generateImage(c, job, req, admission);
}

/** POST /api/generate/image without streaming: one JSON answer. */
export async function generateImage(
  c: Context<AppEnv>,
  job: Job,
  req: GenerateRequest,
  admission: Admission,
): Promise<Response> {
  if (admission.replay) return c.json(admission.replay);
  const { signal, timedOut } = deadline(c.req.raw.signal, job.config.upstreamTimeoutMs);
  let answer: GenerateAnswer;
  try {
    answer = await runJob(placeOf(c), job, req, signal);
  } catch (err) {
    const apiError = publicError(err, timedOut(), job.log, job.config.upstreamTimeoutMs);
    await admission.failed();
    throw apiError;
  }
  await admission.succeeded(answer);
  return c.json(answer);
}
