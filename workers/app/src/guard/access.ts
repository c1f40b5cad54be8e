import type { MiddlewareHandler } from "hono";
import { getConfig } from "../config";
import type { AppEnv } from "../env";
import { ApiError, misconfigured } from "../errors";
import { findToken } from "./tokens";

/**
 * Who is calling. With ACCESS_MODE=tokens every generation needs `Authorization: Bearer <token>`
 * of a known token, and the client is that token; in open mode the client is the caller's IP
 * (as Cloudflare's edge reports it). Limits and idempotency keys are kept per client.
 */
export function identifyClient(): MiddlewareHandler<AppEnv> {
  return async function identifyClient(c, next) {
    const settings = getConfig(c.env).guard;
    if (settings.accessMode === "tokens") {
      const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
      const unauthorized = (message: string) =>
        new ApiError("unauthorized", message, { headers: { "WWW-Authenticate": 'Bearer realm="images"' } });
      if (!token) throw unauthorized("Send your API token as Authorization: Bearer <token>.");
      if (!c.env.API_TOKENS) {
        throw misconfigured("API_TOKENS binding missing (ACCESS_MODE=tokens)");
      }
      const found = await findToken(c.env.API_TOKENS, token);
      if (!found) throw unauthorized("This API token is not valid (unknown or revoked).");
      c.set("client", `token:${found.hash.slice(0, 32)}`);
      c.get("log").info("Caller identified", { token_name: found.record.name });
    } else {
      c.set("client", `ip:${c.req.header("cf-connecting-ip") ?? "unknown"}`);
    }
    await next();
  };
}
