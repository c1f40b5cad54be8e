import { createLogger } from "../../shared/log";
import { requestIdFrom } from "../../shared/request-id";
import { checkAccess } from "./access";
import { diagnostics } from "./diagnostics";
import { matchEndpoint, rawPath } from "./endpoints";
import type { RelayEnv } from "./env";
import { relayError } from "./errors";
import { forward } from "./forward";
import { contentTypeAllowed, headersTooLarge } from "./limits";
import { misconfiguredMessage, relayRedactor, relaySettings } from "./settings";

export { EgressFallback } from "./fallback";

/**
 * The relay's fetch handler. It is deliberately the default `fetch` export (not RPC): placement
 * applies only to it, and the app reaches it with `env.RELAY.fetch(request)`. Every check here is
 * local and runs before anything is sent upstream.
 */
export default {
  async fetch(request: Request, env: RelayEnv): Promise<Response> {
    const requestId = requestIdFrom(request.headers);
    const log = createLogger("relay", { request_id: requestId }, relayRedactor(env));
    // The path exactly as sent. `new URL()` would resolve ".." and "%2e%2e" first and so let
    // "/v1/images/../images/generations" through; the raw text never matches such tricks.
    const endpoint = matchEndpoint(request.method, rawPath(request.url));

    if (endpoint.kind === "not_found") {
      return relayError(404, "not_found", "Unknown path. The relay forwards only the Images API.", requestId);
    }
    if (endpoint.kind === "method_not_allowed") {
      return relayError(405, "method_not_allowed", `Use ${endpoint.allow}.`, requestId, { Allow: endpoint.allow });
    }
    if (headersTooLarge(request.headers)) {
      return relayError(431, "headers_too_large", "Request headers are too large.", requestId);
    }

    const access = await checkAccess(request, env);
    if (!access.ok) {
      log.warn("Refused caller", { code: access.code });
      return relayError(access.status, access.code, access.message, requestId);
    }

    if (endpoint.kind === "diagnostics") return diagnostics(request, env);

    if (!contentTypeAllowed(endpoint.path, request.headers.get("content-type"))) {
      return relayError(415, "unsupported_media_type", "Wrong Content-Type for this endpoint.", requestId);
    }
    // A bad setting is a clear error on every call that needs the settings, never a fallback.
    const { settings, problems } = relaySettings(env);
    if (!settings) {
      log.error("Configuration error", { settings: problems.map((p) => p.setting).join(", ") });
      return relayError(500, "config_error", misconfiguredMessage(problems), requestId);
    }
    return forward(request, endpoint.path, env, settings, requestId, log);
  },
} satisfies ExportedHandler<RelayEnv>;
