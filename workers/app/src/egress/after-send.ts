/**
 * Failures after a call was sent. OpenAI may have accepted (and billed) the generation by then,
 * so none of these is ever retried; each is logged with the route and becomes a stable code.
 */
import type { Logger } from "../../../shared/log";
import { ApiError } from "../errors";

export type AfterSendFailure = "no_headers" | "headers_timeout" | "body_broken" | "body_idle";

/** Logs the failure and returns the error the app answers with. */
export function afterSendError(
  failure: AfterSendFailure,
  route: string,
  log: Logger,
  fields: Record<string, string | number | undefined> = {},
): ApiError {
  const notRetried = "not retried: the call may have been billed";
  switch (failure) {
    case "no_headers":
      log.error(`Egress route ${route}: the connection broke before the answer's headers; ${notRetried}`, {
        route,
        ...fields,
      });
      return new ApiError("upstream_error", "The image provider could not be reached. Try again later.");
    case "headers_timeout":
      log.error(`Egress route ${route}: no answer headers in time; ${notRetried}`, { route, ...fields });
      return new ApiError("upstream_timeout", "The image provider took too long to answer. Try again.");
    case "body_broken":
      log.error(`Egress route ${route}: the answer broke off mid-body; ${notRetried}`, { route, ...fields });
      return new ApiError("upstream_error", "The image provider's answer was cut off. Try again.");
    case "body_idle":
      log.error(`Egress route ${route}: the answer stalled mid-body past the idle limit; ${notRetried}`, {
        route,
        ...fields,
      });
      return new ApiError("upstream_timeout", "The image provider stopped sending its answer. Try again.");
  }
}

export { passedHeaders } from "../../../shared/openai-headers";
