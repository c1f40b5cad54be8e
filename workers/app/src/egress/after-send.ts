/**
 * Failures after a call was sent. OpenAI may have accepted (and billed) the generation by then,
 * so none of these is ever retried; each is logged with the route and becomes a stable code.
 */
import type { Logger } from "../../../shared/log";
import { ApiError } from "../errors";
import type { BodyWatch } from "./body";

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

export { passedHeaders } from "../../../shared/openai-wire";

/**
 * An error's class name, for logs (messages may carry addresses or worse); the HTTP/1.1 reader's
 * own message says only what broke, so it goes too.
 */
export function errorName(err: unknown): string {
  if (err instanceof Error) return err.name === "Http1Error" ? `Http1Error: ${err.message}` : err.name;
  return "unknown";
}

/**
 * How every route watches an answer's body: the idle limit, the caller's signal, and a stall or a
 * break logged and turned into the app's error, counting against the route's cool-off.
 */
export function routeBodyWatch(
  route: string,
  idleMs: number,
  signal: AbortSignal,
  log: Logger,
  onBodyFailure: () => void,
  done: () => void = () => {},
): BodyWatch {
  return {
    idleMs,
    signal,
    fail: (reason, bytes, cause) => {
      onBodyFailure();
      return reason === "idle"
        ? afterSendError("body_idle", route, log, { idle_ms: idleMs, bytes })
        : afterSendError("body_broken", route, log, { bytes, error: errorName(cause) });
    },
    done,
  };
}
