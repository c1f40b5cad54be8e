import type { ForwardedPath } from "./endpoints";

/**
 * Request checks that cost nothing and run before any upstream call: header sizes, declared
 * content types per endpoint, and the body size (declared, or counted while streaming).
 */

/** OpenAI's own clients send a few hundred bytes of headers; these limits leave ample room. */
export const MAX_HEADER_VALUE_BYTES = 8 * 1024;
export const MAX_HEADERS_TOTAL_BYTES = 32 * 1024;

export function headersTooLarge(headers: Headers): boolean {
  let total = 0;
  for (const [name, value] of headers) {
    if (value.length > MAX_HEADER_VALUE_BYTES) return true;
    total += name.length + value.length + 4;
  }
  return total > MAX_HEADERS_TOTAL_BYTES;
}

/** Body types each endpoint takes (edits also take JSON with image URLs or file ids). */
const CONTENT_TYPES: Record<ForwardedPath, readonly string[]> = {
  "/v1/images/generations": ["application/json"],
  "/v1/images/edits": ["multipart/form-data", "application/json"],
  "/v1/images/variations": ["multipart/form-data"],
};

export function contentTypeAllowed(path: ForwardedPath, contentType: string | null): boolean {
  const essence = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return CONTENT_TYPES[path].includes(essence);
}

/** The declared body length, or null when the body is chunked (or absent). NaN when unreadable. */
export function declaredLength(headers: Headers): number | null {
  const value = headers.get("content-length");
  if (value === null) return null;
  return /^\d{1,15}$/.test(value.trim()) ? Number(value) : Number.NaN;
}

/**
 * Passes a chunked body through while counting it; past `max` the stream errors, which aborts
 * the upstream call, and `onExceeded` lets the caller answer 413 instead of a network error.
 */
export function countedBody(
  body: ReadableStream<Uint8Array>,
  max: number,
  onExceeded: () => void,
): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > max) {
          onExceeded();
          controller.error(new Error("request body over the relay's limit"));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
}
