/**
 * The one place where a failed run becomes what the client is told: the app's own ApiErrors as
 * they are, egress's and the answer reader's typed failures in stable codes and plain words, the
 * run's deadline as a timeout, anything else as "could not be reached". Non-2xx answers are
 * worded by answer-status.ts, beside this file. Nothing here names a route, a host or a credential.
 */
import type { Logger } from "../../../shared/log";
import { EgressFailure } from "../egress/types";
import { ApiError } from "../errors";
import { AnswerFailure, type AnswerFailureKind } from "../openai-answer/failure";

const UNREACHABLE = "The image provider could not be reached. Try again later.";
const TOO_SLOW = "The image provider took too long to answer. Try again.";
/**
 * Seconds a client should wait when no egress route could be used: an operator's fix (a proxy
 * restarted, credentials corrected) or a route's cool-off takes this long at the least.
 */
const EGRESS_RETRY_AFTER_S = 30;

/** An egress failure in the client's words. */
export function egressError(failure: EgressFailure): ApiError {
  switch (failure.kind) {
    case "not_sent":
    case "not_sent_timeout":
      // Never sent, nothing billed. The routes' failures (a proxy's address, its verdict on the
      // credentials) are for operators: egress/call.ts logs them, /api/health and the doctor show them.
      return new ApiError("egress_unreachable", UNREACHABLE, {
        headers: { "Retry-After": String(EGRESS_RETRY_AFTER_S) },
      });
    case "no_headers":
      return new ApiError("upstream_error", UNREACHABLE);
    case "headers_timeout":
      return new ApiError("upstream_timeout", TOO_SLOW);
    case "body_broken":
      return new ApiError("upstream_error", "The image provider's answer was cut off. Try again.");
    case "body_idle":
      return new ApiError("upstream_timeout", "The image provider stopped sending its answer. Try again.");
  }
}

/** What the client is told when a 2xx answer could not be used; always upstream_error. */
const ANSWER_WORDS: Record<AnswerFailureKind, string> = {
  unreadable: "The image provider sent an answer that could not be read.",
  too_large: "The image provider sent an answer larger than this server accepts.",
  stream_error: "The image provider failed while generating. Try again.",
  undecodable: "The image provider sent an image that could not be decoded.",
  download_failed: "The image provider's image could not be downloaded. Try again.",
  not_image: "The image provider sent data that is not an image.",
};

/** A failure reading OpenAI's answer in the client's words. */
export function answerError(failure: AnswerFailure): ApiError {
  return new ApiError("upstream_error", ANSWER_WORDS[failure.kind]);
}

/**
 * Any failure of a run as the app's error. `timedOut` says whether the run's own deadline fired
 * (then an abort is a timeout); unknown errors are logged by class name only.
 */
export function publicError(err: unknown, timedOut: boolean, log: Logger, timeoutMs: number): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof EgressFailure) return egressError(err);
  if (err instanceof AnswerFailure) return answerError(err);
  if (timedOut) {
    log.error("Image API did not answer in time", { timeout_ms: timeoutMs });
    return new ApiError("upstream_timeout", TOO_SLOW);
  }
  log.error("Image API call failed", { error: err instanceof Error ? err.name : "unknown" });
  return new ApiError("upstream_error", UNREACHABLE);
}
