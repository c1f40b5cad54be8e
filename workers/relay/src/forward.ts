import type { Logger } from "../../shared/log";
import { parseOpenAIError, REGION_BLOCK_CODE, readTextLimited } from "../../shared/read-limited";
import { DEFAULT_OPENAI_BASE_URL, type RelayEnv } from "./env";
import { relayError } from "./errors";
import { buildDownstreamHeaders, buildUpstreamHeaders } from "./headers";
import type { ForwardedPath } from "./routes";

/** Error bodies we read to log a region block; OpenAI's are a few hundred bytes. */
const MAX_ERROR_BODY = 64 * 1024;

/** Joins base and path so that a base with a path prefix (https://host/openai) keeps it. */
export function upstreamUrl(baseUrl: string | undefined, path: ForwardedPath): string {
  return (baseUrl || DEFAULT_OPENAI_BASE_URL).replace(/\/+$/, "") + path;
}

/**
 * Sends one allowed call upstream. The body goes as a stream, byte for byte (never parsed, so
 * parameters we don't know survive), and the answer comes back as a stream: status, body and the
 * allowlisted headers. Only a 403 is read here, to recognise and log a region block.
 */
export async function forward(
  request: Request,
  path: ForwardedPath,
  env: RelayEnv,
  requestId: string,
  log: Logger,
): Promise<Response> {
  const started = Date.now();
  let upstream: Response;
  try {
    upstream = await fetch(upstreamUrl(env.OPENAI_BASE_URL, path), {
      method: "POST",
      headers: buildUpstreamHeaders(request.headers, env.OPENAI_API_KEY, requestId),
      body: request.body,
      redirect: "manual",
      signal: request.signal,
    });
  } catch (err) {
    log.error("Upstream unreachable", { path, error: err instanceof Error ? err.name : "unknown" });
    return relayError(502, "upstream_unreachable", "The relay could not reach the image API.", requestId);
  }

  const headers = buildDownstreamHeaders(upstream.headers, requestId);
  const fields = {
    path,
    status: upstream.status,
    upstream_request_id: upstream.headers.get("x-request-id") ?? undefined,
    ms_to_headers: Date.now() - started,
  };

  if (upstream.status === 403) {
    const text = await readTextLimited(upstream.body, MAX_ERROR_BODY);
    if (text === null) {
      return relayError(502, "upstream_error", "The image API sent an oversized error body.", requestId);
    }
    if (parseOpenAIError(text).code === REGION_BLOCK_CODE) {
      log.error(
        "OpenAI refused the relay's egress region (unsupported_country_region_territory): the relay runs in a region OpenAI does not serve; check [placement] region in workers/relay/wrangler.toml",
        fields,
      );
    } else {
      log.warn("Upstream answered 403", fields);
    }
    return new Response(text, { status: 403, headers });
  }

  log.info("Forwarded", fields);
  return new Response(upstream.body, { status: upstream.status, headers });
}
