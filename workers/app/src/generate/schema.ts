import * as z from "zod/mini";
import { en } from "zod/v4/locales";

// zod/mini keeps the worker small (about 40 KB instead of 750 KB of full zod); it ships no
// messages of its own, so English ones are loaded once here.
z.config(en());

/**
 * The body of POST /api/generate/image. Strict: an unknown field is an error, not silently
 * dropped, so a client that misspells a parameter learns about it. Model-specific rules are in
 * models.ts; the allowed-model list is the operator's and is checked in the handler.
 */
export const generateRequestSchema = z.strictObject({
  prompt: z
    .string({ error: (issue) => (issue.input === undefined ? "prompt is required" : "prompt must be a string") })
    .check(
      z.trim(),
      z.minLength(1, "prompt must not be empty"),
      z.maxLength(32_000, "prompt must be at most 32,000 characters"),
    ),
  model: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  size: z.optional(
    z
      .string()
      .check(z.regex(/^(auto|[1-9]\d{1,4}x[1-9]\d{1,4})$/, 'size must be "auto" or WIDTHxHEIGHT, e.g. 1024x1024')),
  ),
  quality: z.optional(z.enum(["auto", "low", "medium", "high", "standard", "hd"])),
  n: z.optional(z.int().check(z.minimum(1), z.maximum(10))),
  output_format: z.optional(z.enum(["png", "jpeg", "webp"])),
  output_compression: z.optional(z.int().check(z.minimum(0), z.maximum(100))),
  background: z.optional(z.enum(["transparent", "opaque", "auto"])),
  moderation: z.optional(z.enum(["auto", "low"])),
  user: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  /** Answer as server-sent events (see handlers/generate-stream.ts). */
  stream: z.optional(z.boolean()),
  /** Partial images to stream before the final one (0-3); only with stream. */
  partial_images: z.optional(z.int().check(z.minimum(0), z.maximum(3))),
});

export type GenerateRequest = z.infer<typeof generateRequestSchema>;

export const GENERATE_FIELDS = Object.keys(generateRequestSchema.shape);

/** The first schema issue as `{ param, message }`, in words an API user can act on. */
export function describeIssue(error: { issues: readonly z.core.$ZodIssue[] }): { param?: string; message: string } {
  const issue = error.issues[0];
  if (!issue) return { message: "Invalid request body." };
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    return {
      param: key,
      message: `Unknown field "${key}". Allowed fields: ${GENERATE_FIELDS.join(", ")}.`,
    };
  }
  const param = issue.path.map(String).join(".");
  if (param === "") return { message: "The request body must be a JSON object." };
  return { param, message: issue.message.startsWith(param) ? issue.message : `${param}: ${issue.message}` };
}
