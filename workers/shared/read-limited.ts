/**
 * Reads a body as text, but gives up past `maxBytes`: used only for upstream error bodies, which
 * are small JSON documents; anything bigger is not an error we can explain and is not buffered.
 * Returns null when the body was larger than the limit (the rest is cancelled, not read).
 */
export async function readTextLimited(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<string | null> {
  if (!body) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

/** OpenAI's error shape, as far as we rely on it. */
export interface OpenAIErrorBody {
  error?: { message?: unknown; type?: unknown; param?: unknown; code?: unknown };
}

/** Parses an OpenAI error document; any other text yields an empty object. */
export function parseOpenAIError(text: string | null): {
  message?: string;
  type?: string;
  param?: string;
  code?: string;
} {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as OpenAIErrorBody;
    const e = parsed?.error;
    if (!e || typeof e !== "object") return {};
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    return { message: str(e.message), type: str(e.type), param: str(e.param), code: str(e.code) };
  } catch {
    return {};
  }
}

/**
 * The code OpenAI uses (403, type `request_forbidden`) when the egress location is refused. It
 * depends on the colo the call leaves from, so a retry in place (same colo) never helps.
 */
export const REGION_BLOCK_CODE = "unsupported_country_region_territory";

/**
 * What a `GET /v1/models` status says about the key: 200 accepted, 401 rejected; anything else
 * (404 from a compatible server without the endpoint, a 403 for a restricted key, 429, 5xx)
 * proves neither, so null: "not confirmed". A region block is not about the key at all.
 */
export function keyVerdict(status: number): boolean | null {
  if (status === 200) return true;
  return status === 401 ? false : null;
}
