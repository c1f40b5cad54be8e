import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every error the app answers, with its status and OpenAI-style type. Codes are a public
 * contract: clients branch on them, so they never change meaning.
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, type: "invalid_request_error" },
  content_policy: { status: 400, type: "invalid_request_error" },
  unauthorized: { status: 401, type: "authentication_error" },
  origin_not_allowed: { status: 403, type: "permission_error" },
  not_found: { status: 404, type: "invalid_request_error" },
  method_not_allowed: { status: 405, type: "invalid_request_error" },
  request_timeout: { status: 408, type: "invalid_request_error" },
  payload_too_large: { status: 413, type: "invalid_request_error" },
  unsupported_media_type: { status: 415, type: "invalid_request_error" },
  request_in_progress: { status: 409, type: "invalid_request_error" },
  idempotency_key_reused: { status: 422, type: "invalid_request_error" },
  rate_limited: { status: 429, type: "rate_limit_error" },
  budget_exhausted: { status: 429, type: "rate_limit_error" },
  budget_busy: { status: 429, type: "rate_limit_error" },
  upstream_rate_limited: { status: 429, type: "rate_limit_error" },
  config_error: { status: 500, type: "server_error" },
  internal_error: { status: 500, type: "server_error" },
  upstream_auth: { status: 502, type: "upstream_error" },
  upstream_error: { status: 502, type: "upstream_error" },
  region_blocked: { status: 503, type: "upstream_error" },
  egress_unreachable: { status: 503, type: "upstream_error" },
  upstream_timeout: { status: 504, type: "upstream_error" },
  generation_interrupted: { status: 502, type: "upstream_error" },
  queue_full: { status: 503, type: "server_error" },
  queue_timeout: { status: 503, type: "server_error" },
  cancelled: { status: 409, type: "invalid_request_error" },
  not_cancellable: { status: 409, type: "invalid_request_error" },
} as const satisfies Record<string, { status: ContentfulStatusCode; type: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The one error the app throws; `app.onError` turns it into the envelope. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly param?: string;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: { param?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.param = options.param;
    this.headers = options.headers ?? {};
  }

  get status(): ContentfulStatusCode {
    return ERROR_CODES[this.code].status;
  }
}

/**
 * The config_error for settings or bindings that are missing or wrong. `detail` names them (never
 * a value: it may be a secret), e.g. "RATE_LIMIT_PER_MINUTE must be a whole number".
 */
export function misconfigured(detail: string): ApiError {
  return new ApiError("config_error", `The server is misconfigured: ${detail.replace(/\.$/, "")}.`);
}

/**
 * `{"error": {"code", "message", "type", "param"?, "retry_after"?, "request_id"}}`: OpenAI's shape
 * plus our id, and the seconds to wait when there is a Retry-After.
 */
export function errorEnvelope(err: ApiError, requestId: string) {
  return {
    error: {
      code: err.code,
      message: err.message,
      type: ERROR_CODES[err.code].type,
      ...(err.param === undefined ? {} : { param: err.param }),
      // Also in the body, for streamed errors, whose headers went out before the error happened.
      ...(err.headers["Retry-After"] ? { retry_after: Number(err.headers["Retry-After"]) } : {}),
      request_id: requestId,
    },
  };
}
