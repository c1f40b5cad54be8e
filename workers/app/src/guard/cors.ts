import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { loadConfig } from "../config";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";

/** The app's own page always works; other pages only from ALLOWED_ORIGINS ("*": any). */
function originAllowed(c: Context<AppEnv>, origin: string): boolean {
  if (origin === new URL(c.req.url).origin) return true;
  // With bad settings only the app's own page may call: its calls then get the config_error, and
  // /api/health (also under /api/*) still answers with the problems instead of failing here.
  const allowed = loadConfig(c.env).config?.guard.allowedOrigins ?? [];
  return allowed.includes("*") || allowed.includes(origin);
}

/**
 * CORS for /api/*: preflights answered, the allowed origin echoed (never a wildcard with
 * credentials: the API uses none, tokens travel in Authorization). A browser call from any other
 * origin is refused outright with 403, so another site can't spend the operator's money through
 * its visitors' browsers even where CORS would only hide the answer.
 */
export function apiCors(): MiddlewareHandler<AppEnv> {
  const corsMiddleware = cors({
    origin: (origin, c) => (originAllowed(c as Context<AppEnv>, origin) ? origin : null),
    // The durable API from another site's page: Prefer (respond-async), Last-Event-ID (resume),
    // DELETE (cancel), and the generation's id and Location readable.
    allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
    allowHeaders: ["Content-Type", "Authorization", "Idempotency-Key", "X-Request-Id", "Prefer", "Last-Event-ID"],
    exposeHeaders: ["X-Request-Id", "Retry-After", "X-Generation-Id", "Location", "Preference-Applied"],
    maxAge: 600,
  });
  return async function apiCors(c, next) {
    const origin = c.req.header("origin");
    if (origin && c.req.method !== "GET" && c.req.method !== "HEAD" && !originAllowed(c, origin)) {
      throw new ApiError("origin_not_allowed", "This site may not call the API from a browser.");
    }
    return corsMiddleware(c, next);
  };
}
