/**
 * Failures after a call was sent. OpenAI may have accepted (and billed) the generation by then,
 * so none of these is ever retried; each is logged with the route and becomes an EgressFailure
 * (failures/public.ts words it for the client).
 */
import type { Logger } from "../../../shared/log";
import type { BodyWatch } from "./body";
import { EgressFailure, type EgressFailureKind } from "./types";

/** The failures that can only happen once the call left. */
export type AfterSendFailure = Exclude<EgressFailureKind, "not_sent" | "not_sent_timeout">;

/** What broke, in the operator's log. */
const WHAT_BROKE: Record<AfterSendFailure, string> = {
  no_headers: "the connection broke before the answer's headers",
  headers_timeout: "no answer headers in time",
  body_broken: "the answer broke off mid-body",
  body_idle: "the answer stalled mid-body past the idle limit",
};

/** Logs the failure and returns it typed, naming the route. */
export function afterSendError(
  failure: AfterSendFailure,
  route: string,
  log: Logger,
  fields: Record<string, string | number | undefined> = {},
): EgressFailure {
  log.error(`Egress route ${route}: ${WHAT_BROKE[failure]}; not retried: the call may have been billed`, {
    route,
    ...fields,
  });
  return new EgressFailure(failure, route);
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
