import { z } from "zod";

/**
 * The parts of OpenAI's Images API answer the app uses. Loose: new fields OpenAI adds are kept,
 * not rejected. Each image comes either as base64 (GPT image models) or as a URL (DALL-E and
 * many compatible providers).
 */
export const imagesResponseSchema = z.looseObject({
  created: z.number().optional(),
  data: z
    .array(
      z
        .looseObject({
          b64_json: z.string().optional(),
          url: z.string().optional(),
          revised_prompt: z.string().optional(),
        })
        .refine((d) => d.b64_json !== undefined || d.url !== undefined, "an image needs b64_json or url"),
    )
    .min(1),
  output_format: z.string().optional(),
  usage: z.looseObject({}).optional(),
});

export type ImagesResponse = z.infer<typeof imagesResponseSchema>;
export type UpstreamImage = ImagesResponse["data"][number];
