import * as z from "zod/mini";
import type { Logger } from "../../../shared/log";
import { EgressFailure } from "../egress/types";
import { AnswerFailure, AnswerTooLarge, UnreadableAnswer } from "./failure";
import { DEFAULT_IMAGE_CAPACITY, type ImagesJson, readImagesJson } from "./images-json";
import { type AnswerImage, imagesResponseSchema } from "./images-response";
import { previewUrl } from "./preview";
import { parseSSE } from "./sse";

/** A partial image as the page shows it: a data URL, so nothing is stored for a preview. */
export interface PartialImage {
  index: number;
  url: string;
}

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

const unreadable = () => new AnswerFailure("unreadable");

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

/** Failures of reading an answer, typed; the body's own (idle limit, cut) as they are. */
function readFailure(err: unknown, log: Logger): Error {
  if (err instanceof EgressFailure || err instanceof AnswerFailure) return err;
  if (err instanceof AnswerTooLarge) {
    log.error("Image API answer is too large", { issue: err.message });
    return new AnswerFailure("too_large");
  }
  if (err instanceof UnreadableAnswer) log.error("Image API answer could not be read", { issue: err.message });
  return unreadable();
}

/**
 * An image's `b64_json` as the scanner left it: a placeholder `"#<n>"` stands for image n, decoded
 * while the answer streamed. Any other string is base64 the scanner did not see (an escaped key),
 * decoded later like a stream's.
 */
function imageData(b64_json: string | undefined, decoded: Uint8Array[] | undefined): Partial<AnswerImage> {
  if (b64_json === undefined) return {};
  const index = decoded ? PLACEHOLDER.exec(b64_json)?.[1] : undefined;
  if (index === undefined) return { b64_json };
  const bytes = decoded?.[Number(index)];
  if (!bytes) throw unreadable();
  return { bytes };
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
    throw readFailure(err, log);
  }
  const parsed = z.safeParse(imagesResponseSchema, read.value);
  if (!parsed.success) {
    log.error("Image API answer did not have the expected shape", { issue: parsed.error.issues[0]?.message });
    throw unreadable();
  }
  const { created, data, usage } = parsed.data;
  const images = data.map(({ b64_json, ...image }): AnswerImage => ({ ...image, ...imageData(b64_json, read.images) }));
  return { created, images, usage };
}

/** Stream events whose image is decoded as it arrives: the final ones, which are stored. */
const DECODED_EVENTS: ReadonlySet<string> = new Set(["image_generation.completed"]);

/**
 * A streamed answer (SSE). Partial images go to `onPartial` as data URLs, so they are needed as
 * text; each final image is decoded as its event streams and never held as text.
 */
async function readStreamedAnswer(
  body: ReadableStream<Uint8Array>,
  log: Logger,
  onPartial?: (partial: PartialImage) => Promise<void>,
): Promise<UpstreamAnswer> {
  const answer: UpstreamAnswer = { images: [] };
  // Partial images have the final one's size: they size its buffer.
  let capacity = DEFAULT_IMAGE_CAPACITY;
  let previewDropped = false;
  const events = parseSSE(body, { imageEvents: DECODED_EVENTS, imageCapacity: () => capacity });
  try {
    for await (const event of events) {
      if (event.event === "image_generation.partial_image") {
        const partial = decode(partialEvent, event.data);
        capacity = Math.max(capacity, Math.ceil((partial.b64_json.length * 3) / 4));
        const url = previewUrl(partial.b64_json);
        if (url) await onPartial?.({ index: partial.partial_image_index ?? 0, url });
        else if (!previewDropped) {
          // Once per call: a stream of bad previews is one problem, not one line per preview.
          previewDropped = true;
          log.warn("Image API sent a preview that is not a PNG, JPEG or WebP; previews like it are dropped", {
            output_format: partial.output_format?.slice(0, 40),
          });
        }
      } else if (event.event === "image_generation.completed") {
        const done = decode(completedEvent, event.data);
        answer.images.push({ revised_prompt: done.revised_prompt, ...imageData(done.b64_json, event.images) });
        answer.created ??= done.created_at;
        answer.usage = done.usage ?? answer.usage;
      } else if (event.event === "error") {
        log.error("Image API stream ended with an error", {
          detail: log.redact(event.data.slice(0, 4096)).slice(0, 300),
        });
        throw new AnswerFailure("stream_error");
      }
    }
  } catch (err) {
    // The scanner's own failures; the rest (the body's, the client's) go on as they are.
    if (err instanceof AnswerTooLarge || err instanceof UnreadableAnswer) throw readFailure(err, log);
    throw err;
  }
  if (answer.images.length === 0) throw unreadable();
  return answer;
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
  if (!type.startsWith("text/event-stream")) return readJsonAnswer(res, log);
  if (!res.body) throw unreadable();
  return readStreamedAnswer(res.body, log, onPartial);
}
