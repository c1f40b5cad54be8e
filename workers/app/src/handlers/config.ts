import type { Context } from "hono";
import { getConfig } from "../config";
import type { AppEnv } from "../env";
import { MODEL_SPECS } from "../generate/models";
import { MAX_JSON_BODY_BYTES } from "../middleware/json-body";

/** Sizes offered for gpt-image-2, which takes any size within its rules (models.ts). */
const SUGGESTED_FLEXIBLE_SIZES = [
  "auto",
  "1024x1024",
  "1536x1024",
  "1024x1536",
  "2048x2048",
  "2048x1152",
  "1152x2048",
  "3840x2160",
  "2160x3840",
];
/** Models the operator allows but we don't know: the generic rules of the schema. */
const GENERIC = { sizes: ["auto", "1024x1024"], qualities: ["auto"], maxImages: 10, flexible: false, streams: false };

/**
 * GET /api/config: what the page needs to offer choices, so it never hard-codes the operator's
 * settings. Nothing secret: model names and limits only.
 */
export function clientConfig(c: Context<AppEnv>): Response {
  const config = getConfig(c.env);
  const models = config.allowedModels.map((id) => {
    const spec = MODEL_SPECS[id];
    if (!spec) return { id, ...describe(GENERIC) };
    const flexible = spec.sizes === "flexible";
    return {
      id,
      ...describe({
        sizes: flexible ? SUGGESTED_FLEXIBLE_SIZES : [...(spec.sizes as readonly string[])],
        qualities: [...spec.qualities],
        maxImages: spec.maxImages,
        flexible,
        streams: spec.streams,
      }),
    };
  });
  return c.json(
    {
      default_model: config.defaultModel,
      models,
      limits: { prompt_max_chars: 32_000, partial_images_max: 3, max_body_bytes: MAX_JSON_BODY_BYTES },
    },
    200,
    { "cache-control": "public, max-age=60" },
  );
}

function describe(m: typeof GENERIC) {
  return {
    sizes: m.sizes,
    flexible_sizes: m.flexible,
    qualities: m.qualities,
    max_images: m.maxImages,
    streaming: m.streams,
  };
}
