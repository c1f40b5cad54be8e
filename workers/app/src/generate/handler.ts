import type { Context } from "hono";
import * as z from "zod/mini";
import { getConfig } from "../config";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { newGenerationId, sniffImageType, storeImage } from "../storage/images";
import { callRelay } from "../upstream/egress";
import { upstreamFailure } from "../upstream/errors";
import { imageBytes } from "../upstream/image-bytes";
import { imagesResponseSchema } from "../upstream/images-response";
import { modelParamProblem } from "./models";
import type { GenerateRequest } from "./schema";

/** What OpenAI gets: the validated fields only, with the model always named (see FACTS). */
function upstreamBody(req: GenerateRequest, model: string): Record<string, unknown> {
  const { model: _ignored, ...rest } = req;
  return { model, ...rest };
}

/** Aborts on the client's disconnect or after the configured time, whichever comes first. */
function deadline(client: AbortSignal, ms: number): { signal: AbortSignal; timedOut: () => boolean } {
  const timeout = AbortSignal.timeout(ms);
  return { signal: AbortSignal.any([client, timeout]), timedOut: () => timeout.aborted };
}

/**
 * POST /api/generate/image: validate, ask the relay, keep the images in R2, answer with URLs on
 * our own origin so the end user's browser never contacts the provider.
 */
export async function generateImage(c: Context<AppEnv>, req: GenerateRequest): Promise<Response> {
  const config = getConfig(c.env);
  const requestId = c.get("requestId");
  const model = req.model ?? config.defaultModel;
  if (!config.allowedModels.includes(model)) {
    throw new ApiError("invalid_request", `model must be one of ${config.allowedModels.join(", ")}.`, {
      param: "model",
    });
  }
  const problem = modelParamProblem(model, req);
  if (problem) throw new ApiError("invalid_request", problem.message, { param: problem.param });

  const log = c.get("log").with({ model });
  log.info(`Using OpenAI ${model} for image generation`, {
    n: req.n ?? 1,
    size: req.size,
    quality: req.quality,
    ...(config.logPrompts ? { prompt: req.prompt } : {}),
  });

  const started = Date.now();
  const { signal, timedOut } = deadline(c.req.raw.signal, config.upstreamTimeoutMs);
  try {
    const res = await callRelay(c.env, config, {
      method: "POST",
      path: "/v1/images/generations",
      requestId,
      signal,
      body: JSON.stringify(upstreamBody(req, model)),
      contentType: "application/json",
    });
    if (!res.ok) throw await upstreamFailure(res, log);

    const parsed = z.safeParse(imagesResponseSchema, await res.json());
    if (!parsed.success) {
      log.error("Image API answer did not have the expected shape", { issue: parsed.error.issues[0]?.message });
      throw new ApiError("upstream_error", "The image provider sent an answer that could not be read.");
    }
    const answer = parsed.data;

    const images = await Promise.all(
      answer.data.map(async (image) => {
        const bytes = await imageBytes(image, signal);
        const type = sniffImageType(bytes);
        if (!type) throw new ApiError("upstream_error", "The image provider sent data that is not an image.");
        const stored = await storeImage(c.env.IMAGES, bytes, type, { requestId, model });
        return {
          url: new URL(`/api/images/${stored.name}`, c.req.url).href,
          ...(image.revised_prompt ? { revised_prompt: image.revised_prompt } : {}),
          bytes: stored.bytes,
        };
      }),
    );

    log.info("Image generation completed successfully", {
      images: images.length,
      bytes: images.reduce((sum, i) => sum + i.bytes, 0),
      ms: Date.now() - started,
      upstream_request_id: res.headers.get("x-request-id") ?? undefined,
      total_tokens: typeof answer.usage?.total_tokens === "number" ? answer.usage.total_tokens : undefined,
    });
    return c.json({
      id: newGenerationId(),
      created: answer.created ?? Math.floor(Date.now() / 1000),
      model,
      images: images.map(({ bytes: _bytes, ...image }) => image),
      ...(answer.usage ? { usage: answer.usage } : {}),
    });
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (timedOut()) {
      log.error("Image API did not answer in time", { timeout_ms: config.upstreamTimeoutMs });
      throw new ApiError("upstream_timeout", "The image provider took too long to answer. Try again.");
    }
    log.error("Image API call failed", { error: err instanceof Error ? err.name : "unknown" });
    throw new ApiError("upstream_error", "The image provider could not be reached. Try again later.");
  }
}
