/**
 * Canned answers of the fast stand-in, built once at start-up so that serving one costs a
 * buffer write and nothing else. Image bytes start with the PNG signature (the app sniffs it) and
 * are random after it, like compressed image data.
 */
import { randomBytes } from "node:crypto";

export const ANSWER_KINDS = ["small", "1mb", "4mb", "25mb"] as const;
export type AnswerKind = (typeof ANSWER_KINDS)[number];

export const SSE_KINDS = ["sse-small", "sse-image", "sse-4mb"] as const;
export type SseKind = (typeof SSE_KINDS)[number];

const MIB = 1024 * 1024;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Decoded image size of each answer. 25mb is sized so that the whole JSON body is 25 MiB. */
export const IMAGE_BYTES: Record<AnswerKind, number> = {
  small: 64,
  "1mb": MIB,
  "4mb": 4 * MIB,
  "25mb": (25 * MIB * 3) / 4,
};

export function pngLike(size: number): Buffer {
  const buf = randomBytes(size);
  PNG_SIGNATURE.copy(buf, 0);
  return buf;
}

/** An Images API answer (`data[0].b64_json`) as GPT image models send it. */
export function imagesAnswer(imageBytes: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      created: 1767225600,
      background: "opaque",
      output_format: "png",
      quality: "low",
      size: "1024x1024",
      data: [{ b64_json: pngLike(imageBytes).toString("base64") }],
      usage: { input_tokens: 12, output_tokens: 272, total_tokens: 284 },
    }),
  );
}

export function buildAnswers(): Record<AnswerKind, Buffer> {
  return Object.fromEntries(ANSWER_KINDS.map((kind) => [kind, imagesAnswer(IMAGE_BYTES[kind])])) as Record<
    AnswerKind,
    Buffer
  >;
}

/** One SSE event in OpenAI's image streaming shape. */
function sseEvent(type: string, fields: Record<string, unknown>): Buffer {
  return Buffer.from(`event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`);
}

/**
 * The events of one stream. sse-small: events of a few hundred bytes (what a buffering proxy
 * holds back longest). sse-image: partial images of 96 KiB and a 1 MiB final image. sse-4mb:
 * images of 4 MiB (the app's memory per streamed generation).
 */
export function buildSseEvents(kind: SseKind, count: number): Buffer[] {
  const sizes: Record<SseKind, [number, number]> = {
    "sse-small": [64, 64],
    "sse-image": [96 * 1024, MIB],
    "sse-4mb": [4 * MIB, 4 * MIB],
  };
  const [partialBytes, finalBytes] = sizes[kind];
  const events: Buffer[] = [];
  for (let i = 0; i < count - 1; i++) {
    const b64 = pngLike(partialBytes).toString("base64");
    events.push(sseEvent("image_generation.partial_image", { partial_image_index: i, b64_json: b64 }));
  }
  const final = pngLike(finalBytes).toString("base64");
  events.push(sseEvent("image_generation.completed", { b64_json: final, usage: { total_tokens: 284 } }));
  return events;
}
