import type { Logger } from "../../shared/log";
import { parseOpenAIError, REGION_BLOCK_CODE } from "../../shared/openai-wire";
import { readTextLimited } from "../../shared/read-limited";
import { retryAfterMsValue, retryAfterValue } from "../../shared/retry-after";
import type { ForwardedPath } from "./endpoints";
import type { RelayEnv } from "./env";
import { relayError } from "./errors";
import { FALLBACK_LOCATION, fallbackEgress, fallbackEnabled } from "./fallback";
import { buildDownstreamHeaders, buildUpstreamHeaders } from "./headers";
import { countedBody, declaredLength } from "./limits";
import { operatorOf, type RelaySettings } from "./settings";

/** Error bodies read to recognise a region block; OpenAI's are a few hundred bytes. */
const MAX_ERROR_BODY = 64 * 1024;
/**
 * Request bodies up to this size are kept so that a region-blocked call can be sent again from
 * the fallback location. JSON generations are always this small; large multipart uploads stream
 * through and get no second try.
 */
export const KEEP_BODY_BYTES = 1024 * 1024;

/**
 * Sends one allowed call upstream. The body goes as it came, byte for byte (never parsed, so
 * parameters we don't know survive), and the answer comes back as a stream: status, body and the
 * allowlisted headers. Only a 403 is read here, to recognise a region block and resend the call
 * from the fallback location (a refused call was not billed, so sending it again is safe).
 * Long because the relay's hottest path is kept in one function: the body, the timer and the
 * fallback decision share state, and every extra call and closure shows in the bench.
 */
export async function forward(
  request: Request,
  path: ForwardedPath,
  env: RelayEnv,
  settings: RelaySettings,
  requestId: string,
  log: Logger,
): Promise<Response> {
  const maxBody = settings.maxBodyBytes;
  const declared = declaredLength(request.headers);
  if (Number.isNaN(declared)) return relayError(400, "bad_content_length", "Unreadable Content-Length.", requestId);
  if (declared !== null && declared > maxBody) return tooLarge(maxBody, requestId);

  const fallbackOn = fallbackEnabled(env, settings);
  const keep = fallbackOn && declared !== null && declared <= KEEP_BODY_BYTES;
  /** Set only for a chunked body: aborts the upstream call once the count passes the limit. */
  let overLimit: AbortController | undefined;
  let body: BodyInit | null = request.body;
  const timeoutMs = settings.upstreamTimeoutMs;
  // One deadline for the whole call, upload included: workerd waits for a half-sent body without
  // limit, so a kept body is read within it too (a streamed one is bounded by the fetch's signal).
  const timeout = AbortSignal.timeout(timeoutMs);
  if (keep) {
    const read = request.arrayBuffer();
    const late = new Promise<null>((resolve) => timeout.addEventListener("abort", () => resolve(null)));
    const bytes = await Promise.race([read, late]);
    if (bytes === null) {
      read.catch(() => {});
      return relayError(408, "request_timeout", "The request body did not arrive in time.", requestId);
    }
    body = bytes;
  } else if (request.body && declared === null) {
    // Chunked: count as it streams, and abort the upstream call (not just end the body, which
    // could pass a truncated body off as complete) once it passes the limit. A declared length
    // is enforced by the runtime itself.
    const abort = new AbortController();
    overLimit = abort;
    body = countedBody(request.body, maxBody, () => abort.abort());
  }

  const url = settings.openaiBaseUrl + path;
  const headers = buildUpstreamHeaders(request.headers, operatorOf(env), requestId);
  // A caller's disconnect needs no signal of ours: the runtime ends the invocation and cancels
  // its subrequests. Combining signals costs about 10 µs a call, so only a counted body does.
  const signal = overLimit ? AbortSignal.any([timeout, overLimit.signal]) : timeout;
  const started = Date.now();

  let upstream: Response;
  try {
    upstream = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal });
  } catch (err) {
    if (overLimit?.signal.aborted) return tooLarge(maxBody, requestId);
    if (timeout.aborted) {
      log.error("Upstream did not answer in time", { path, timeout_ms: timeoutMs });
      return relayError(504, "upstream_timeout", "The image API did not answer in time.", requestId);
    }
    log.error("Upstream unreachable", { path, error: err instanceof Error ? err.name : "unknown" });
    return relayError(502, "upstream_unreachable", "The relay could not reach the image API.", requestId);
  }

  const fields = {
    path,
    status: upstream.status,
    egress: "placed",
    upstream_request_id: upstream.headers.get("x-request-id") ?? undefined,
    ms_to_headers: Date.now() - started,
  };
  if (upstream.status !== 403) {
    // A line per successful call is what Workers Logs' invocation log already records, and
    // writing it is a tenth of the relay's own cost per call; LOG_ALL_CALLS=on adds it back.
    if (upstream.status >= 400) {
      log.warn(`Upstream answered ${upstream.status}`, fields);
      return passError(upstream, "placed", requestId, log);
    }
    if (settings.logAllCalls) log.info("Forwarded", fields);
    return respond(upstream.body, upstream, "placed", requestId);
  }

  const read = await readTextLimited(upstream.body, MAX_ERROR_BODY);
  if (read === null) return relayError(502, "upstream_error", "The image API sent an oversized error.", requestId);
  const text = log.redact(read);
  if (parseOpenAIError(text).code !== REGION_BLOCK_CODE) {
    log.warn("Upstream answered 403", fields);
    return respond(text, upstream, "placed", requestId);
  }

  log.error(
    "OpenAI refused the relay's egress region (unsupported_country_region_territory): the relay runs in a region OpenAI does not serve; check [placement] region in workers/relay/wrangler.toml",
    fields,
  );
  const fallback = keep ? fallbackEgress(env, settings) : undefined;
  if (!fallback) {
    log.warn("No fallback egress for this call", {
      reason: !fallbackOn ? "REGION_FALLBACK is off or unbound" : "request body too large to keep",
    });
    return respond(text, upstream, "placed", requestId);
  }

  const egress = `fallback-${FALLBACK_LOCATION}`;
  let second: Response;
  try {
    second = await fallback.fetch(url, { method: "POST", headers, body, signal });
  } catch (err) {
    log.error("Fallback egress failed", { path, egress, error: err instanceof Error ? err.name : "unknown" });
    return respond(text, upstream, "placed", requestId);
  }
  const outcome = { ...fields, egress, status: second.status, ms_to_headers: Date.now() - started };
  if (second.status === 403) log.error("Fallback egress was refused as well", outcome);
  else log.warn("Fallback egress answered", outcome);
  if (second.status >= 400) return passError(second, egress, requestId, log);
  return respond(second.body, second, egress, requestId);
}

/**
 * An upstream error passed on with the relay's secrets (and anything shaped like a credential)
 * masked: a broken or hostile upstream can repeat the Authorization header it was sent. Error
 * bodies are small, so reading one whole costs nothing that matters.
 */
async function passError(from: Response, egress: string, requestId: string, log: Logger): Promise<Response> {
  let text: string | null;
  try {
    text = await readTextLimited(from.body, MAX_ERROR_BODY);
  } catch (err) {
    log.error("Upstream error body failed", { error: err instanceof Error ? err.name : "unknown" });
    return relayError(502, "upstream_error", "The image API's error answer was cut off.", requestId);
  }
  if (text === null) return relayError(502, "upstream_error", "The image API sent an oversized error.", requestId);
  const res = respond(log.redact(text), from, egress, requestId);
  capWaits(res.headers);
  return res;
}

/** Each wait hint at most an hour (shared/retry-after.ts), so no caller is told to wait for years. */
function capWaits(headers: Headers): void {
  // An HTTP date becomes seconds; a value the parser can't read is left as it came.
  const seconds = retryAfterValue(headers.get("retry-after"));
  if (seconds !== undefined) headers.set("retry-after", String(Math.ceil(seconds / 1000)));
  const ms = retryAfterMsValue(headers.get("retry-after-ms"));
  if (ms !== undefined) headers.set("retry-after-ms", String(ms));
}

function respond(body: BodyInit | null, from: Response, egress: string, requestId: string): Response {
  return new Response(body, { status: from.status, headers: buildDownstreamHeaders(from.headers, requestId, egress) });
}

function tooLarge(max: number, requestId: string): Response {
  return relayError(413, "payload_too_large", `The request body must be at most ${max} bytes.`, requestId);
}
