import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
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

/** 413 once the body passes the limit, whether or not Content-Length announced it. */
export function limitBody(maxBytes = MAX_JSON_BODY_BYTES): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError("payload_too_large", `The request body must be at most ${maxBytes} bytes.`);
    },
  });
}
