import type { Logger } from "../../../shared/log";
import { parseOpenAIError, REGION_BLOCK_CODE } from "../../../shared/openai-wire";
import { readTextLimited } from "../../../shared/read-limited";
import {
  RELAY_ERROR_TYPE,
  RELAY_MISCONFIGURED_PREFIX,
  RELAY_REFUSAL_CODES,
  type RelayErrorCode,
} from "../../../shared/relay-protocol";
import { retryAfterMs } from "../../../shared/retry-after";
import { regionAdvice } from "../egress/region-advice";
import { ApiError, misconfigured } from "../errors";

const MAX_ERROR_BODY = 64 * 1024;
const DEFAULT_RETRY_AFTER_S = 20;

/** Whole seconds to tell the client (1 s to an hour), from OpenAI's headers or a default. */
export function retryAfterSeconds(headers: Headers): number {
  const ms = retryAfterMs(headers);
  return ms === undefined ? DEFAULT_RETRY_AFTER_S : Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Turns a non-2xx answer from the relay (its own errors or OpenAI's, passed through) into the
 * app's error. Upstream messages reach the end user only for 400s, where they describe the
 * user's own input; auth and account problems get our own words and go to the log instead.
 * Long because it is a table: one branch per kind of answer, in the order they are tried.
 */
export async function upstreamFailure(res: Response, log: Logger): Promise<ApiError> {
  const text = await readTextLimited(res.body, MAX_ERROR_BODY);
  const err = parseOpenAIError(text);
  const fields = {
    status: res.status,
    upstream_code: err.code,
    upstream_type: err.type,
    upstream_request_id: res.headers.get("x-request-id") ?? undefined,
    egress_route: res.headers.get("x-egress-route") ?? undefined,
    // Masked before it is cut, so that a cut can't leave part of a secret unrecognised.
    upstream_message: err.message ? log.redact(err.message).slice(0, 300) : undefined,
  };

  if (err.type === RELAY_ERROR_TYPE) return relayFailure(res.status, err.code, err.message, log, fields);

  if (res.status === 403 && err.code === REGION_BLOCK_CODE) {
    const advice = regionAdvice(fields.egress_route);
    log.error(
      `OpenAI refused the request because of the egress region (unsupported_country_region_territory): ${advice.operator}`,
      fields,
    );
    return new ApiError("region_blocked", advice.user);
  }

  log.warn("Image API returned an error", fields);
  if (res.status === 400) {
    if (isModeration(err.code, err.type)) {
      return new ApiError(
        "content_policy",
        "The image provider's safety system rejected this prompt. Rephrase it and try again.",
      );
    }
    // The message is the provider's, and may repeat what it was sent: masked as in the log.
    return new ApiError("invalid_request", log.redact(err.message ?? "The image provider rejected the request."), {
      param: err.param,
    });
  }
  // A 403 without OpenAI's error document came from something in between (a CDN or proxy
  // block page), not from OpenAI judging the key.
  if (res.status === 401 || (res.status === 403 && err.message !== undefined)) {
    return new ApiError(
      "upstream_auth",
      "The image provider refused the server's credentials. The operator must check the API key.",
    );
  }
  if (res.status === 429) {
    if (err.code === "insufficient_quota") {
      return new ApiError(
        "upstream_error",
        "The image provider account is out of quota. The operator must add credit.",
      );
    }
    const seconds = retryAfterSeconds(res.headers);
    return new ApiError(
      "upstream_rate_limited",
      `The image provider is rate limiting requests. Retry in ${seconds} s.`,
      {
        headers: { "Retry-After": String(seconds) },
      },
    );
  }
  if (res.status === 408 || res.status === 504 || res.status === 524) {
    return new ApiError("upstream_timeout", "The image provider took too long to answer. Try again.");
  }
  return new ApiError("upstream_error", "The image provider failed to generate the image. Try again later.");
}

function isModeration(code: string | undefined, type: string | undefined): boolean {
  return (
    code === "moderation_blocked" ||
    code === "content_policy_violation" ||
    (type === "image_generation_user_error" && (code ?? "").includes("moderation"))
  );
}

/** The relay refused the app itself: always the operator's configuration, never the user's. */
function relayFailure(
  status: number,
  code: string | undefined,
  message: string | undefined,
  log: Logger,
  fields: Record<string, string | number | undefined>,
): ApiError {
  log.error("The relay refused the app's request", fields);
  if (RELAY_REFUSAL_CODES.includes(code as RelayErrorCode)) {
    return misconfigured("RELAY_TOKEN does not match the relay's");
  }
  if (code === "config_error") {
    // The relay's message names its bad settings (never their values).
    const text = message ?? "";
    const detail = text.startsWith(RELAY_MISCONFIGURED_PREFIX) ? text.slice(RELAY_MISCONFIGURED_PREFIX.length) : text;
    return misconfigured(`the relay's own settings: ${log.redact(detail).slice(0, 300) || "see its logs"}`);
  }
  if (status === 404 || status === 405) {
    return misconfigured("OPENAI_PROXY does not point at a relay");
  }
  return new ApiError("upstream_error", "The image provider could not be reached. Try again later.");
}
