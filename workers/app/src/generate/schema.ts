import { z } from "zod";

/**
 * The body of POST /api/generate/image. Strict: an unknown field is an error, not silently
 * dropped, so a client that misspells a parameter learns about it. Model-specific rules are in
 * models.ts; the allowed-model list is the operator's and is checked in the handler.
 */
export const generateRequestSchema = z.strictObject({
  prompt: z
    .string({ error: (issue) => (issue.input === undefined ? "prompt is required" : "prompt must be a string") })
    .trim()
    .min(1, "prompt must not be empty")
    .max(32_000, "prompt must be at most 32,000 characters"),
  model: z.string().min(1).max(64).optional(),
  size: z
    .string()
    .regex(/^(auto|[1-9]\d{1,4}x[1-9]\d{1,4})$/, 'size must be "auto" or WIDTHxHEIGHT, e.g. 1024x1024')
    .optional(),
  quality: z.enum(["auto", "low", "medium", "high", "standard", "hd"]).optional(),
  n: z.number().int().min(1).max(10).optional(),
  output_format: z.enum(["png", "jpeg", "webp"]).optional(),
  output_compression: z.number().int().min(0).max(100).optional(),
  background: z.enum(["transparent", "opaque", "auto"]).optional(),
  moderation: z.enum(["auto", "low"]).optional(),
  user: z.string().min(1).max(256).optional(),
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
