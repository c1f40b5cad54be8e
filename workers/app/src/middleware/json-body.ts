import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";

/** JSON bodies of generation requests are small; anything bigger is refused before it is read. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

/** 415 unless the body is declared as JSON (application/json, optionally with a charset). */
export function requireJson(): MiddlewareHandler<AppEnv> {
  return async function requireJson(c, next) {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new ApiError("unsupported_media_type", "Send the body as JSON with Content-Type: application/json.");
    }
    await next();
  };
}

/**
 * The whole body must arrive within this time. workerd itself waits for a half-sent body without
 * limit (measured: still open after 150 s), so without a deadline a client that declares a length
 * and stops could hold the request open for as long as it likes. 64 KB in 10 s is ~52 kbit/s.
 */
export const BODY_TIMEOUT_MS = 10_000;

/**
 * Reads the body before anything else may: 413 from the declared length alone, before a byte of
 * the body is read (workerd then closes the connection); 413 as soon as an undeclared (chunked)
 * body passes the limit; 408 when the body has not arrived in time. The body read here is kept
 * for the handlers (`c.req.json()` reads it again from memory).
 */
export function limitBody(maxBytes = MAX_JSON_BODY_BYTES, timeoutMs = BODY_TIMEOUT_MS): MiddlewareHandler<AppEnv> {
  return async function limitBody(c, next) {
    const tooLarge = () => new ApiError("payload_too_large", `The request body must be at most ${maxBytes} bytes.`);
    if (Number(c.req.header("content-length")) > maxBytes) throw tooLarge();
    const body = c.req.raw.body;
    if (!body) return next();

    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    const read = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        size += value.byteLength;
        if (size > maxBytes) throw tooLarge();
        chunks.push(value);
      }
    })();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new ApiError("request_timeout", `The request body did not arrive within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
    });
    try {
      await Promise.race([read, late]);
    } catch (err) {
      // Stop waiting for the rest; the answer goes out now and the runtime closes the connection.
      read.catch(() => {});
      reader.cancel().catch(() => {});
      throw err;
    } finally {
      clearTimeout(timer);
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: bytes });
    await next();
  };
}
