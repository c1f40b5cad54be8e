import type { Context } from "hono";
import type { Logger } from "../../../shared/log";
import { type AppConfig, getConfig } from "../config";
import { EGRESS_ROUTE_HEADER, sendToOpenAI } from "../egress";
import { NotSentError } from "../egress/failures";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import type { Admission } from "../guard/admission";
import { upstreamFailure } from "../openai-answer/errors";
import { imageBytes } from "../openai-answer/image-bytes";
import { type PartialImage, readAnswer } from "../openai-answer/read-answer";
import { newGenerationId, sniffImageType, storeImage } from "../storage/images";
import { MODEL_SPECS, modelParamProblem } from "./models";
import type { GenerateRequest } from "./schema";

/** Partial images asked for when a client streams without saying how many. */
const DEFAULT_PARTIAL_IMAGES = 2;

/** Statuses of a gateway that sent the call on and got no answer: the call may have been billed. */
const NO_ANSWER_STATUSES = [502, 504, 524];

/** A validated request, ready to run. */
export interface Job {
  model: string;
  requestId: string;
  config: AppConfig;
  log: Logger;
  /** Whether the upstream is asked to stream (the client wants it and the model can). */
  upstreamStream: boolean;
  /** Partial images the upstream is asked for (0 unless it streams); each costs output tokens. */
  partialImages: number;
  /**
   * Set by runJob: whether OpenAI may have billed the call. True from the moment the call may
   * leave; false again only when it provably did not (no route could send it) or OpenAI answered
   * with its own refusal or error (4xx, 500, 503). The budget keeps a failed call's hold while true.
   */
  mayBeBilled: boolean;
}

/** The answer of POST /api/generate/image, also the data of the stream's `completed` event. */
export interface GenerateAnswer {
  id: string;
  created: number;
  model: string;
  images: Array<{ url: string; revised_prompt?: string }>;
  usage?: Record<string, unknown>;
}

/** Checks what the schema can't (the operator's model list, per-model rules) and logs the start. */
export function prepareJob(c: Context<AppEnv>, req: GenerateRequest, clientStreams: boolean): Job {
  const config = getConfig(c.env);
  const model = req.model ?? config.defaultModel;
  if (!config.allowedModels.includes(model)) {
    throw new ApiError("invalid_request", `model must be one of ${config.allowedModels.join(", ")}.`, {
      param: "model",
    });
  }
  const problem = modelParamProblem(model, req);
  if (problem) throw new ApiError("invalid_request", problem.message, { param: problem.param });
  if (req.partial_images !== undefined && !clientStreams) {
    throw new ApiError("invalid_request", "partial_images needs stream: true.", { param: "partial_images" });
  }

  const log = c.get("log").with({ model });
  log.info(`Using OpenAI ${model} for image generation`, {
    n: req.n ?? 1,
    size: req.size,
    quality: req.quality,
    stream: clientStreams,
    ...(config.logPrompts ? { prompt: req.prompt } : {}),
  });
  const upstreamStream = clientStreams && MODEL_SPECS[model]?.streams === true;
  const partialImages = upstreamStream ? (req.partial_images ?? DEFAULT_PARTIAL_IMAGES) : 0;
  return { model, requestId: c.get("requestId"), config, log, upstreamStream, partialImages, mayBeBilled: false };
}

/**
 * What OpenAI gets: the validated fields, stream options and the model always named (without one
 * the API still defaults to dall-e-2, a model it no longer serves).
 */
function upstreamBody(req: GenerateRequest, job: Job): string {
  const { model: _model, stream: _stream, partial_images: _partials, ...rest } = req;
  const streaming = job.upstreamStream ? { stream: true, partial_images: job.partialImages } : {};
  return JSON.stringify({ model: job.model, ...rest, ...streaming });
}

/**
 * Runs one generation: asks the relay, keeps the images in R2, and returns URLs on our own origin
 * so the end user's browser never contacts the provider. Partial images go to `onPartial`.
 */
export async function runJob(
  c: Context<AppEnv>,
  job: Job,
  req: GenerateRequest,
  signal: AbortSignal,
  onPartial?: (partial: PartialImage) => Promise<void>,
): Promise<GenerateAnswer> {
  const started = Date.now();
  // From here the call may reach OpenAI. A failure that can't tell (an abort mid-call) keeps it so.
  job.mayBeBilled = true;
  let res: Response;
  try {
    res = await sendToOpenAI(c.env, job.config, {
      method: "POST",
      path: "/v1/images/generations",
      requestId: job.requestId,
      signal,
      body: upstreamBody(req, job),
      contentType: "application/json",
      log: job.log,
    });
  } catch (err) {
    if (err instanceof NotSentError) job.mayBeBilled = false;
    throw err;
  }
  // Which egress route served the call (set on JSON answers; a stream's headers are already sent).
  const route = res.headers.get(EGRESS_ROUTE_HEADER);
  if (route) c.header(EGRESS_ROUTE_HEADER, route);
  // From here every line names the route, so the usual call needs no egress line of its own.
  const log = route ? job.log.with({ route }) : job.log;
  if (!res.ok) {
    // OpenAI's own refusals and errors (4xx, 500, 503) bill nothing; a gateway's "no answer from
    // upstream" (502, 504, 524: the relay's too) may come after OpenAI did the work.
    job.mayBeBilled = NO_ANSWER_STATUSES.includes(res.status);
    throw await upstreamFailure(res, log);
  }
  const answer = await readAnswer(res, log, onPartial);

  const images = await Promise.all(
    answer.images.map(async (image) => {
      const bytes = await imageBytes(image, signal, log);
      const type = sniffImageType(bytes);
      if (!type) throw new ApiError("upstream_error", "The image provider sent data that is not an image.");
      const stored = await storeImage(c.env.IMAGES, bytes, type, { requestId: job.requestId, model: job.model });
      return {
        url: new URL(`/api/images/${stored.name}`, c.req.url).href,
        ...(image.revised_prompt ? { revised_prompt: image.revised_prompt } : {}),
        bytes: stored.bytes,
      };
    }),
  );

  const usage = answer.usage;
  log.info("Image generation completed successfully", {
    images: images.length,
    bytes: images.reduce((sum, i) => sum + i.bytes, 0),
    ms: Date.now() - started,
    upstream_request_id: res.headers.get("x-request-id") ?? undefined,
    total_tokens: typeof usage?.total_tokens === "number" ? usage.total_tokens : undefined,
  });
  return {
    id: newGenerationId(),
    created: answer.created ?? Math.floor(Date.now() / 1000),
    model: job.model,
    images: images.map(({ bytes: _bytes, ...image }) => image),
    ...(usage ? { usage } : {}),
  };
}

/** Aborts on the client's disconnect or after the configured time, whichever comes first. */
export function deadline(client: AbortSignal, ms: number): { signal: AbortSignal; timedOut: () => boolean } {
  const timeout = AbortSignal.timeout(ms);
  return { signal: AbortSignal.any([client, timeout]), timedOut: () => timeout.aborted };
}

/** Any failure of a run as the app's error: ours as they are, the rest as timeout or upstream. */
export function asApiError(err: unknown, job: Job, timedOut: boolean): ApiError {
  if (err instanceof ApiError) return err;
  if (timedOut) {
    job.log.error("Image API did not answer in time", { timeout_ms: job.config.upstreamTimeoutMs });
    return new ApiError("upstream_timeout", "The image provider took too long to answer. Try again.");
  }
  job.log.error("Image API call failed", { error: err instanceof Error ? err.name : "unknown" });
  return new ApiError("upstream_error", "The image provider could not be reached. Try again later.");
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
    answer = await runJob(c, job, req, signal);
  } catch (err) {
    const apiError = asApiError(err, job, timedOut());
    await admission.failed();
    throw apiError;
  }
  await admission.succeeded(answer);
  return c.json(answer);
}
