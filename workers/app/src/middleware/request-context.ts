import type { MiddlewareHandler } from "hono";
import { createLogger } from "../../../shared/log";
import { REQUEST_ID_HEADER, requestIdFrom } from "../../../shared/request-id";
import type { AppEnv } from "../env";
import { appRedactor } from "../secrets";

/**
 * Gives every request an id (the caller's X-Request-Id when it is plain, else a new one) and a
 * logger that stamps it on every line; the id goes back in the response header.
 */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async function requestContext(c, next) {
    const requestId = requestIdFrom(c.req.raw.headers);
    c.set("requestId", requestId);
    c.set("log", createLogger("app", { request_id: requestId }, appRedactor(c.env)));
    await next();
    c.res.headers.set(REQUEST_ID_HEADER, requestId);
  };
}
