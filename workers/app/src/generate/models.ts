/**
 * What each known model accepts, so that a bad combination is refused here (400, no upstream
 * call, nothing billed) instead of by OpenAI. Models an operator allows but we don't know yet get
 * only the generic checks of the request schema.
 */
export interface ModelSpec {
  /** "flexible": any WxH within gpt-image-2's limits. */
  sizes: "flexible" | readonly string[];
  qualities: readonly string[];
  maxImages: number;
  /** GPT image models take output_format, output_compression, background and moderation. */
  gptImage: boolean;
  /** Whether the Images API streams partial images for it (`stream: true`). */
  streams: boolean;
}

const GPT_IMAGE_SIZES = ["auto", "1024x1024", "1536x1024", "1024x1536"] as const;
const GPT_IMAGE_QUALITIES = ["auto", "low", "medium", "high"] as const;

export const MODEL_SPECS: Record<string, ModelSpec> = {
  "gpt-image-2": { sizes: "flexible", qualities: GPT_IMAGE_QUALITIES, maxImages: 10, gptImage: true, streams: true },
  "gpt-image-1.5": {
    sizes: GPT_IMAGE_SIZES,
    qualities: GPT_IMAGE_QUALITIES,
    maxImages: 10,
    gptImage: true,
    streams: true,
  },
  "gpt-image-1": {
    sizes: GPT_IMAGE_SIZES,
    qualities: GPT_IMAGE_QUALITIES,
    maxImages: 10,
    gptImage: true,
    streams: true,
  },
  "gpt-image-1-mini": {
    sizes: GPT_IMAGE_SIZES,
    qualities: GPT_IMAGE_QUALITIES,
    maxImages: 10,
    gptImage: true,
    streams: true,
  },
  "chatgpt-image-latest": {
    sizes: GPT_IMAGE_SIZES,
    qualities: GPT_IMAGE_QUALITIES,
    maxImages: 10,
    gptImage: true,
    streams: true,
  },
  "dall-e-3": {
    sizes: ["1024x1024", "1792x1024", "1024x1792"],
    qualities: ["standard", "hd"],
    maxImages: 1,
    gptImage: false,
    streams: false,
  },
  "dall-e-2": {
    sizes: ["256x256", "512x512", "1024x1024"],
    qualities: ["standard"],
    maxImages: 10,
    gptImage: false,
    streams: false,
  },
};

/** gpt-image-2's rule for free sizes (OpenAI's Images API reference). */
export function flexibleSizeProblem(size: string): string | undefined {
  if (size === "auto") return undefined;
  const match = /^([1-9]\d*)x([1-9]\d*)$/.exec(size);
  if (!match) return 'must be "auto" or WIDTHxHEIGHT';
  const w = Number(match[1]);
  const h = Number(match[2]);
  if (w % 16 !== 0 || h % 16 !== 0) return "edges must be multiples of 16";
  if (Math.max(w, h) > 3840) return "the longer edge must be at most 3840";
  if (Math.max(w, h) > 3 * Math.min(w, h)) return "the aspect ratio must be at most 3:1";
  const pixels = w * h;
  if (pixels < 655_360 || pixels > 8_294_400) return "must have between 655,360 and 8,294,400 pixels";
  return undefined;
}

export interface ModelParams {
  size?: string;
  quality?: string;
  n?: number;
  output_format?: string;
  output_compression?: number;
  background?: string;
  moderation?: string;
}

/** The first parameter the model can't take, as `{ param, message }`, or undefined. */
export function modelParamProblem(model: string, params: ModelParams): { param: string; message: string } | undefined {
  const spec = MODEL_SPECS[model];
  if (params.output_compression !== undefined && !["jpeg", "webp"].includes(params.output_format ?? "")) {
    return { param: "output_compression", message: 'output_compression needs output_format "jpeg" or "webp".' };
  }
  if (params.background === "transparent" && params.output_format === "jpeg") {
    return { param: "background", message: 'A transparent background needs output_format "png" or "webp".' };
  }
  if (!spec) return undefined;

  if (params.size !== undefined) {
    if (spec.sizes === "flexible") {
      const problem = flexibleSizeProblem(params.size);
      if (problem) return { param: "size", message: `size for ${model} ${problem}.` };
    } else if (!spec.sizes.includes(params.size)) {
      return { param: "size", message: `size for ${model} must be one of ${spec.sizes.join(", ")}.` };
    }
  }
  if (params.quality !== undefined && !spec.qualities.includes(params.quality)) {
    return { param: "quality", message: `quality for ${model} must be one of ${spec.qualities.join(", ")}.` };
  }
  if (params.n !== undefined && params.n > spec.maxImages) {
    return { param: "n", message: `${model} makes at most ${spec.maxImages} image(s) per request.` };
  }
  if (!spec.gptImage) {
    for (const param of ["output_format", "output_compression", "background", "moderation"] as const) {
      if (params[param] !== undefined) {
        return { param, message: `${param} is supported only by GPT image models, not ${model}.` };
      }
    }
  }
  return undefined;
}
