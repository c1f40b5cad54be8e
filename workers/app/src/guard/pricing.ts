import { TOKENS_PER_PARTIAL, worstImageTokens } from "./image-tokens";

/**
 * What a generation costs, for the daily budget. OpenAI bills image models by tokens (text and
 * image input, image output) and reports them in `usage`; models without usage are charged a
 * flat price per image. The defaults are OpenAI's list prices as published when this was
 * written (USD per million tokens); an operator sets PRICE_TABLE to override any of them.
 */
export interface ModelPrice {
  text_input_per_mtok: number;
  image_input_per_mtok: number;
  image_output_per_mtok: number;
  /** Charged for each image when the answer carries no usage; the least the hold reserves for one. */
  per_image: number;
}

export type PriceTable = Record<string, ModelPrice>;

export const DEFAULT_PRICES: PriceTable = {
  "gpt-image-2": { text_input_per_mtok: 5, image_input_per_mtok: 8, image_output_per_mtok: 30, per_image: 0.25 },
  "gpt-image-1.5": { text_input_per_mtok: 5, image_input_per_mtok: 8, image_output_per_mtok: 32, per_image: 0.2 },
  "gpt-image-1": { text_input_per_mtok: 5, image_input_per_mtok: 10, image_output_per_mtok: 40, per_image: 0.25 },
  "gpt-image-1-mini": { text_input_per_mtok: 2, image_input_per_mtok: 2.5, image_output_per_mtok: 8, per_image: 0.06 },
  "dall-e-3": { text_input_per_mtok: 0, image_input_per_mtok: 0, image_output_per_mtok: 0, per_image: 0.12 },
  "dall-e-2": { text_input_per_mtok: 0, image_input_per_mtok: 0, image_output_per_mtok: 0, per_image: 0.02 },
};

/** For models in neither table: the dearest per-image price we know, so a budget still holds. */
const UNKNOWN_MODEL: ModelPrice = {
  text_input_per_mtok: 5,
  image_input_per_mtok: 10,
  image_output_per_mtok: 40,
  per_image: 0.25,
};

/**
 * DEFAULT_PRICES with the operator's PRICE_TABLE (JSON, same shape, partial entries allowed) on
 * top; a string says what is wrong with it (the config parser files it under PRICE_TABLE).
 */
export function parsePriceTable(json: string | undefined): PriceTable | string {
  if (!json?.trim()) return DEFAULT_PRICES;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return "is not valid JSON";
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return "must be an object keyed by model";
  const table: PriceTable = { ...DEFAULT_PRICES };
  for (const [model, entry] of Object.entries(parsed as Record<string, unknown>)) {
    const base = table[model] ?? UNKNOWN_MODEL;
    const merged = { ...base, ...(entry as object) } as Record<string, unknown>;
    if (!entry || typeof entry !== "object" || !Object.values(merged).every((v) => typeof v === "number" && v >= 0)) {
      return `entry "${model}" needs non-negative numbers`;
    }
    table[model] = merged as unknown as ModelPrice;
  }
  return table;
}

const priceOf = (table: PriceTable, model: string) => table[model] ?? UNKNOWN_MODEL;

/** What a call asks for, as far as its price depends on it. */
export interface CostQuery {
  model: string;
  size?: string;
  quality?: string;
  n: number;
  /** Partial images the upstream is asked to stream (0 when it does not stream). */
  partialImages: number;
  /** The prompt's length in UTF-16 units. */
  promptChars: number;
}

/**
 * Text tokens a prompt may cost, at most: one per UTF-16 unit (English runs about four
 * characters a token; some scripts and emoji come near one) plus a few for the request's frame.
 */
const promptTokens = (chars: number) => chars + 16;

/**
 * What to hold back from the budget before a call: the most it can cost. Per image, the
 * dearer of `per_image` and the worst-case output tokens for the model, quality and size
 * (image-tokens.ts) plus each partial image's tokens; and the prompt's worst-case text tokens
 * for each image (OpenAI bills n images as n generations).
 */
export function estimateCost(table: PriceTable, q: CostQuery): number {
  const price = priceOf(table, q.model);
  const outputTokens = worstImageTokens(q.model, q.quality, q.size) + q.partialImages * TOKENS_PER_PARTIAL;
  const perImage = Math.max(
    price.per_image,
    (outputTokens * price.image_output_per_mtok + promptTokens(q.promptChars) * price.text_input_per_mtok) / 1_000_000,
  );
  return perImage * q.n;
}

interface Usage {
  input_tokens?: unknown;
  output_tokens?: unknown;
  input_tokens_details?: { text_tokens?: unknown; image_tokens?: unknown };
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

/** The cost of a finished generation, from OpenAI's usage when it has one. */
export function actualCost(table: PriceTable, model: string, images: number, usage: unknown): number {
  const price = priceOf(table, model);
  const u = usage as Usage | undefined;
  if (!u || typeof u !== "object" || (u.input_tokens === undefined && u.output_tokens === undefined)) {
    return price.per_image * images;
  }
  const imageIn = num(u.input_tokens_details?.image_tokens);
  const textIn =
    u.input_tokens_details?.text_tokens !== undefined
      ? num(u.input_tokens_details.text_tokens)
      : num(u.input_tokens) - imageIn;
  return (
    (textIn * price.text_input_per_mtok +
      imageIn * price.image_input_per_mtok +
      num(u.output_tokens) * price.image_output_per_mtok) /
    1_000_000
  );
}
