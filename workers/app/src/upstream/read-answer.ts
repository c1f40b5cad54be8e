import * as z from "zod/mini";
import type { Logger } from "../../../shared/log";
import { ApiError } from "../errors";
import { AnswerTooLarge, type ImagesJson, readImagesJson, UnreadableAnswer } from "./images-json";
import { imagesResponseSchema, type UpstreamImage } from "./images-response";
import { parseSSE } from "./sse";

/** A partial image as the page shows it: a data URL, so nothing is stored for a preview. */
export interface PartialImage {
  index: number;
  url: string;
}

/** An image of the answer; `bytes` when its base64 was decoded while the answer streamed. */
export type AnswerImage = UpstreamImage & { bytes?: Uint8Array };

export interface UpstreamAnswer {
  created?: number;
  images: AnswerImage[];
  usage?: Record<string, unknown>;
}

/** Largest JSON answer read: OpenAI's largest (10 images of about 4 MB) is about 55 MB. */
export const MAX_JSON_ANSWER_BYTES = 64 * 1024 * 1024;
const PLACEHOLDER = /^#(\d+)$/;

const partialEvent = z.looseObject({
  b64_json: z.string(),
  partial_image_index: z.optional(z.number()),
  output_format: z.optional(z.string()),
});
const completedEvent = z.looseObject({
  b64_json: z.string(),
  created_at: z.optional(z.number()),
  usage: z.optional(z.looseObject({})),
  revised_prompt: z.optional(z.string()),
});

const unreadable = () => new ApiError("upstream_error", "The image provider sent an answer that could not be read.");

/** One event's JSON data checked against its schema; anything else is an unreadable answer. */
function decode<T>(schema: z.ZodMiniType<T>, data: string): T {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw unreadable();
  }
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) throw unreadable();
  return parsed.data;
}

/**
 * A JSON answer, its images decoded as it streams (images-json.ts). A body that fails as it
 * streams (the egress layer's idle limit, a cut) is that error; text that is not JSON, or base64
 * that is not, is an unreadable answer.
 */
async function readJsonAnswer(res: Response, log: Logger): Promise<UpstreamAnswer> {
  if (!res.body) throw unreadable();
  const declared = Number(res.headers.get("content-length"));
  let read: ImagesJson;
  try {
    read = await readImagesJson(res.body, declared > 0 ? declared : undefined, MAX_JSON_ANSWER_BYTES);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (err instanceof AnswerTooLarge) {
      log.error("Image API answer is too large", { limit_bytes: MAX_JSON_ANSWER_BYTES });
      throw new ApiError("upstream_error", "The image provider sent an answer larger than this server accepts.");
    }
    if (err instanceof UnreadableAnswer) log.error("Image API answer could not be read", { issue: err.message });
    throw unreadable();
  }
  const parsed = z.safeParse(imagesResponseSchema, read.value);
  if (!parsed.success) {
    log.error("Image API answer did not have the expected shape", { issue: parsed.error.issues[0]?.message });
    throw unreadable();
  }
  const { created, data, usage } = parsed.data;
  const images = data.map(({ b64_json, ...image }): AnswerImage => {
    const index = b64_json === undefined ? undefined : PLACEHOLDER.exec(b64_json)?.[1];
    if (index === undefined) return b64_json === undefined ? image : { ...image, b64_json };
    const bytes = read.images[Number(index)];
    if (!bytes) throw unreadable();
    return { ...image, bytes };
  });
  return { created, images, usage };
}

/**
 * Reads a successful Images API answer, JSON or SSE (`stream: true`), into one shape. Partial
 * images are handed to `onPartial` as they arrive; the final images are returned at the end.
 */
export async function readAnswer(
  res: Response,
  log: Logger,
  onPartial?: (partial: PartialImage) => Promise<void>,
): Promise<UpstreamAnswer> {
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("text/event-stream")) {
    return readJsonAnswer(res, log);
  }

  const answer: UpstreamAnswer = { images: [] };
  for await (const event of parseSSE(res.body as ReadableStream<Uint8Array>)) {
    if (event.event === "image_generation.partial_image") {
      const partial = decode(partialEvent, event.data);
      const format = partial.output_format ?? "png";
      await onPartial?.({
        index: partial.partial_image_index ?? 0,
        url: `data:image/${format};base64,${partial.b64_json}`,
      });
    } else if (event.event === "image_generation.completed") {
      const done = decode(completedEvent, event.data);
      answer.images.push({ b64_json: done.b64_json, revised_prompt: done.revised_prompt });
      answer.created ??= done.created_at;
      answer.usage = done.usage ?? answer.usage;
    } else if (event.event === "error") {
      log.error("Image API stream ended with an error", { detail: event.data.slice(0, 300) });
      throw new ApiError("upstream_error", "The image provider failed while generating. Try again.");
    }
  }
  if (answer.images.length === 0) throw unreadable();
  return answer;
}
