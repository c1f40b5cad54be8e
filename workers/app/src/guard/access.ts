import type { MiddlewareHandler } from "hono";
import { getConfig } from "../config";
import type { AppEnv } from "../env";
import { ApiError, misconfigured } from "../errors";
import { clientKeyFromHeaders } from "./client-address";
import { findToken } from "./tokens";

/**
 * The one client of every open-mode request without a usable address. Only callers that bypass
 * the edge can send one (the edge sets cf-connecting-ip on every request and clients can't remove
 * it), so sharing a bucket can only make them stricter, never give anyone a fresh limit.
 */
const UNKNOWN_CLIENT = "ip:unknown";
/** Per isolate: the warning about callers without an address is logged once, not per request. */
let warnedUnknown = false;

/**
 * Who is calling. With ACCESS_MODE=tokens every generation needs `Authorization: Bearer <token>`
 * of a known token, and the client is that token; in open mode the client is the caller's IPv4
 * address or IPv6 /64 (as Cloudflare's edge reports it). Limits and idempotency keys are kept per client.
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
      const key = clientKeyFromHeaders(c.req.header("cf-connecting-ip"), c.req.header("cf-connecting-ipv6"));
      if (!key && !warnedUnknown) {
        warnedUnknown = true;
        c.get("log").warn(
          "A request without a client address (cf-connecting-ip): not from Cloudflare's edge (a service binding or a direct local call). All such callers share one rate limit, 'ip:unknown'; give them ACCESS_MODE=tokens to limit them apart.",
        );
      }
      c.set("client", key ?? UNKNOWN_CLIENT);
    }
    await next();
  };
}
