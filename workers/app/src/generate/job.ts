/**
 * A generation's job: what was asked, checked against the operator's settings, and what the run
 * will ask OpenAI for. Nothing here knows HTTP; the guards and the run both depend on this file.
 */
import type { Logger } from "../../../shared/log";
import type { AppConfig } from "../config";
import { ApiError } from "../errors";
import { MODEL_SPECS, modelParamProblem } from "./models";
import type { GenerateRequest } from "./schema";

/** Partial images asked for when a client streams without saying how many. */
const DEFAULT_PARTIAL_IMAGES = 2;

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
}

/** The answer of POST /api/generate/image, also the data of the stream's `completed` event. */
export interface GenerateAnswer {
  id: string;
  created: number;
  model: string;
  images: Array<{ url: string; revised_prompt?: string }>;
  usage?: Record<string, unknown>;
}

/** What a job is prepared from: the worker's settings and the request's id and logger. */
export interface JobOrigin {
  config: AppConfig;
  requestId: string;
  log: Logger;
}

/** Checks what the schema can't (the operator's model list, per-model rules) and logs the start. */
export function prepareJob(from: JobOrigin, req: GenerateRequest, clientStreams: boolean): Job {
  const { config } = from;
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

  const log = from.log.with({ model });
  log.info(`Using OpenAI ${model} for image generation`, {
    n: req.n ?? 1,
    size: req.size,
    quality: req.quality,
    stream: clientStreams,
    ...(config.logPrompts ? { prompt: req.prompt } : {}),
  });
  // n > 1 is asked without stream: what a stream does with several images is not documented
  // (docs/design/durable-generations.md §5), while the JSON answer's data[] holds every image.
  const upstreamStream = clientStreams && MODEL_SPECS[model]?.streams === true && (req.n ?? 1) === 1;
  const partialImages = upstreamStream ? (req.partial_images ?? DEFAULT_PARTIAL_IMAGES) : 0;
  return { model, requestId: from.requestId, config, log, upstreamStream, partialImages };
}

/**
 * What OpenAI gets: the validated fields, stream options and the model always named (without one
 * the API still defaults to dall-e-2, a model it no longer serves).
 */
export function upstreamBody(req: GenerateRequest, job: Job): string {
  const { model: _model, stream: _stream, partial_images: _partials, ...rest } = req;
  const streaming = job.upstreamStream ? { stream: true, partial_images: job.partialImages } : {};
  return JSON.stringify({ model: job.model, ...rest, ...streaming });
}
