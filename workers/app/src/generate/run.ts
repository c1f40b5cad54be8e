/**
 * Running one job: the call to OpenAI through egress, reading its answer, keeping the images in
 * R2. Knows no HTTP framework, so the Worker's handler and a Durable Object can both call it.
 */

import type { Logger } from "../../../shared/log";
import { EGRESS_ROUTE_HEADER, sendToOpenAI } from "../egress";
import type { AppBindings } from "../env";
import { upstreamFailure } from "../failures/answer-status";
import { newGenerationId } from "../generations/id";
import { AnswerFailure } from "../openai-answer/failure";
import { imageBytes } from "../openai-answer/image-bytes";
import type { AnswerImage } from "../openai-answer/images-response";
import { type PartialImage, readAnswer } from "../openai-answer/read-answer";
import { newImageStem, sniffImageType, storeImage } from "../storage/images";
import { type GenerateAnswer, type Job, upstreamBody } from "./job";
import type { GenerateRequest } from "./schema";

/**
 * Where a run happens. The job already carries the settings, request id and logger; this adds the
 * bindings, the public origin the image URLs are built on, and who hears which egress route
 * served the call (the HTTP handler sets it as a response header).
 */
export interface RunPlace {
  env: AppBindings;
  /** e.g. "https://images.example.com"; image URLs are `${origin}/api/images/<name>`. */
  origin: string;
  onRoute?: (route: string) => void;
  /**
   * Called (and awaited) after the answer is read, before any image is put in R2, with the
   * random part of each image's name (`<stem>.<type>`), so a recovery can look for them.
   */
  onStoring?: (stems: string[]) => Promise<void>;
  /** Hears the status and headers of OpenAI's answer (the fair queue learns its limits from them). */
  onAnswer?: (status: number, headers: Headers) => void;
  /** Rate-limited answers retried in place, at most (0 under the fair queue: it waits instead). */
  rateLimitRetries?: number;
}

/**
 * Runs one generation: asks the relay, keeps the images in R2, and returns URLs on our own origin
 * so the end user's browser never contacts the provider. Partial images go to `onPartial`.
 */
export async function runJob(
  place: RunPlace,
  job: Job,
  req: GenerateRequest,
  signal: AbortSignal,
  onPartial?: (partial: PartialImage) => Promise<void>,
): Promise<GenerateAnswer> {
  const started = Date.now();
  // Whether a failure may have been billed is decided by its caller from egress's failure and
  // the answer's status (generations/outcome.ts `failureOutcome`).
  const res = await sendToOpenAI(place.env, job.config, {
    method: "POST",
    path: "/v1/images/generations",
    requestId: job.requestId,
    signal,
    body: upstreamBody(req, job),
    contentType: "application/json",
    log: job.log,
    ...(place.rateLimitRetries === undefined ? {} : { rateLimitRetries: place.rateLimitRetries }),
  });
  // Which egress route served the call (set on JSON answers; a stream's headers are already sent).
  const route = res.headers.get(EGRESS_ROUTE_HEADER);
  if (route) place.onRoute?.(route);
  place.onAnswer?.(res.status, res.headers);
  // From here every line names the route, so the usual call needs no egress line of its own.
  const log = route ? job.log.with({ route }) : job.log;
  if (!res.ok) throw await upstreamFailure(res, log);
  const answer = await readAnswer(res, log, onPartial);
  const stems = answer.images.map(() => newImageStem());
  await place.onStoring?.(stems);

  const images = await keepImages(place, job, answer.images, stems, signal, log);

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

/**
 * Each image of the answer as bytes (decoded or downloaded), checked to be an image, kept in R2,
 * and named by a URL on our own origin. The call is paid: the images that could be kept are
 * answered (the caller counts the rest as `images_missing`); only when none could, the first
 * failure is thrown.
 */
async function keepImages(
  place: RunPlace,
  job: Job,
  images: AnswerImage[],
  stems: string[],
  signal: AbortSignal,
  log: Logger,
) {
  const settled = await Promise.allSettled(
    images.map(async (image, i) => {
      const bytes = await imageBytes(image, signal, log);
      const type = sniffImageType(bytes);
      if (!type) throw new AnswerFailure("not_image");
      const meta = { requestId: job.requestId, model: job.model };
      const stored = await storeImage(place.env.IMAGES, bytes, type, meta, stems[i]);
      return {
        url: new URL(`/api/images/${stored.name}`, place.origin).href,
        ...(image.revised_prompt ? { revised_prompt: image.revised_prompt } : {}),
        bytes: stored.bytes,
      };
    }),
  );
  const kept = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed && kept.length === 0) throw failed.reason;
  if (failed)
    log.warn("Some images of a paid answer could not be kept", {
      kept: kept.length,
      lost: images.length - kept.length,
    });
  return kept;
}

/** Aborts on the client's disconnect or after the configured time, whichever comes first. */
export function deadline(client: AbortSignal, ms: number): { signal: AbortSignal; timedOut: () => boolean } {
  const timeout = AbortSignal.timeout(ms);
  return { signal: AbortSignal.any([client, timeout]), timedOut: () => timeout.aborted };
}
