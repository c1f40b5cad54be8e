import * as z from "zod/mini";

/**
 * The parts of OpenAI's Images API answer the app uses. Loose: new fields OpenAI adds are kept,
 * not rejected. Each image comes either as base64 (GPT image models) or as a URL (DALL-E and
 * many compatible providers).
 */
export const imagesResponseSchema = z.looseObject({
  created: z.optional(z.number()),
  data: z
    .array(
      z
        .looseObject({
          b64_json: z.optional(z.string()),
          url: z.optional(z.string()),
          revised_prompt: z.optional(z.string()),
        })
        .check(z.refine((d) => d.b64_json !== undefined || d.url !== undefined, "an image needs b64_json or url")),
    )
    .check(z.minLength(1)),
  output_format: z.optional(z.string()),
  usage: z.optional(z.looseObject({})),
});

export type ImagesResponse = z.infer<typeof imagesResponseSchema>;
export type UpstreamImage = ImagesResponse["data"][number];

/** An image of the answer; `bytes` when its base64 was decoded while the answer streamed. */
export type AnswerImage = UpstreamImage & { bytes?: Uint8Array };
