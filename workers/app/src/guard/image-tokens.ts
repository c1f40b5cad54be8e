/**
 * How many image output tokens OpenAI bills for one image, per model, quality and size: the
 * basis of the budget's worst-case hold (pricing.ts). Figures are per 1024x1024 image; other
 * sizes scale with their pixel area, which is exact for OpenAI's published gpt-image-1 table
 * (1024x1536 and 1536x1024 cost 1.5 times the square) and conservative for gpt-image-2, whose
 * calculator bills larger sizes less per pixel than the square.
 */
export interface SquareTokens {
  low: number;
  medium: number;
  high: number;
}

/** OpenAI's image generation guide, gpt-image-1: 1024x1024 low 272, medium 1056, high 4160. */
const GPT_IMAGE_1: SquareTokens = { low: 272, medium: 1056, high: 4160 };

/**
 * gpt-image-2: OpenAI's per-image prices for 1024x1024 ($0.006, $0.053, $0.211) at its $30 per
 * million output tokens, rounded up (OpenAI's cost calculator shows 7024 for high).
 */
const GPT_IMAGE_2: SquareTokens = { low: 200, medium: 1767, high: 7034 };

/** For models whose own table we could not find: the largest documented figure per quality. */
export const LARGEST_TABLE: SquareTokens = {
  low: Math.max(GPT_IMAGE_1.low, GPT_IMAGE_2.low),
  medium: Math.max(GPT_IMAGE_1.medium, GPT_IMAGE_2.medium),
  high: Math.max(GPT_IMAGE_1.high, GPT_IMAGE_2.high),
};

/**
 * Per model. gpt-image-1.5's published per-image prices are gpt-image-1's table at its own rate.
 * gpt-image-1-mini and chatgpt-image-latest have no published table: the largest one is used.
 */
export const SQUARE_TOKENS: Record<string, SquareTokens> = {
  "gpt-image-2": GPT_IMAGE_2,
  "gpt-image-1.5": GPT_IMAGE_1,
  "gpt-image-1": GPT_IMAGE_1,
  "gpt-image-1-mini": LARGEST_TABLE,
  "chatgpt-image-latest": LARGEST_TABLE,
};

/** Output tokens OpenAI's guide adds for each partial image of a streamed generation. */
export const TOKENS_PER_PARTIAL = 100;

const SQUARE_PIXELS = 1024 * 1024;
/** The largest image of the fixed-size GPT image models: 1536x1024. */
const FIXED_MAX_PIXELS = 1536 * 1024;
/** The largest image gpt-image-2 (and any model of unknown sizes) may be asked for. */
const FLEXIBLE_MAX_PIXELS = 8_294_400;

/**
 * Worst-case output tokens for one image. `auto` (or no value) is the dearest choice: high
 * quality, and the largest size the model takes. Sizes below 1024x1024 are billed as the square
 * (gpt-image-2 bills them less; this only errs high).
 */
export function worstImageTokens(model: string, quality: string | undefined, size: string | undefined): number {
  const table = SQUARE_TOKENS[model] ?? LARGEST_TABLE;
  const perSquare = quality === "low" || quality === "medium" ? table[quality] : table.high;
  const flexible = model === "gpt-image-2" || SQUARE_TOKENS[model] === undefined;
  const match = size ? /^(\d+)x(\d+)$/.exec(size) : null;
  const pixels = match ? Number(match[1]) * Number(match[2]) : flexible ? FLEXIBLE_MAX_PIXELS : FIXED_MAX_PIXELS;
  return Math.ceil(perSquare * Math.max(1, pixels / SQUARE_PIXELS));
}
