import { createLogger } from "../../shared/log";
import { requestIdFrom } from "../../shared/request-id";
import { checkAccess } from "./access";
import type { RelayEnv } from "./env";
import { relayError } from "./errors";
import { forward } from "./forward";
import { matchRoute } from "./routes";

/**
 * The relay's fetch handler. It is deliberately the default `fetch` export (not RPC): Smart
 * Placement and placement regions apply only to it, and the app reaches it with
 * `env.RELAY.fetch(request)`.
 */
export default {
  async fetch(request: Request, env: RelayEnv): Promise<Response> {
    const requestId = requestIdFrom(request.headers);
    const log = createLogger("relay", { request_id: requestId });
    const url = new URL(request.url);
    const route = matchRoute(request.method, url.pathname);

    if (route.kind === "not_found") {
      return relayError(404, "not_found", "Unknown path. The relay forwards only the Images API.", requestId);
    }
    if (route.kind === "method_not_allowed") {
      return relayError(405, "method_not_allowed", `Use ${route.allow}.`, requestId, { Allow: route.allow });
    }

    const access = await checkAccess(request, env);
    if (!access.ok) {
      log.warn("Refused caller", { code: access.code });
      return relayError(access.status, access.code, access.message, requestId);
    }

    if (route.kind === "health") {
      return Response.json(
        { ok: true, key_configured: Boolean(env.OPENAI_API_KEY), token_required: Boolean(env.RELAY_TOKEN) },
        { headers: { "X-Request-Id": requestId } },
      );
    }
    return forward(request, route.path, env, requestId, log);
  },
} satisfies ExportedHandler<RelayEnv>;
