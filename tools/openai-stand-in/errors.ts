/**
 * OpenAI's error answers, as the real API words them: the `{ error: { message, type, param, code } }`
 * envelope with the status, type, code and message OpenAI sends in each case.
 */
export interface StandInError {
  status: number;
  headers?: Record<string, string>;
  error: { message: string; type: string; param: string | null; code: string | null };
}

export const ERRORS = {
  region_block: {
    status: 403,
    error: {
      message: "Country, region, or territory not supported",
      type: "request_forbidden",
      param: null,
      code: "unsupported_country_region_territory",
    },
  },
  moderation: {
    status: 400,
    error: {
      message:
        "Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID.",
      type: "image_generation_user_error",
      param: null,
      code: "moderation_blocked",
    },
  },
  rate_limit: {
    status: 429,
    headers: { "retry-after": "3", "retry-after-ms": "2500" },
    error: {
      message: "Rate limit reached for images per minute. Please try again in 2.5s.",
      type: "requests",
      param: null,
      code: "rate_limit_exceeded",
    },
  },
  quota: {
    status: 429,
    error: {
      message: "You exceeded your current quota, please check your plan and billing details.",
      type: "insufficient_quota",
      param: null,
      code: "insufficient_quota",
    },
  },
  server_error: {
    status: 500,
    error: {
      message: "The server had an error while processing your request. Sorry about that!",
      type: "server_error",
      param: null,
      code: null,
    },
  },
  bad_request: {
    status: 400,
    error: {
      message: "Invalid value: 'huge'. Supported values are: 'low', 'medium', 'high', and 'auto'.",
      type: "invalid_request_error",
      param: "quality",
      code: "invalid_value",
    },
  },
  org_not_verified: {
    status: 403,
    error: {
      message:
        "Your organization must be verified to use the model `gpt-image-1`. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization.",
      type: "invalid_request_error",
      param: null,
      code: null,
    },
  },
} satisfies Record<string, StandInError>;

/** OpenAI's 401, which echoes a masked form of the key it was given. */
export function invalidKey(given: string | undefined): StandInError {
  const masked = given ? `${given.slice(0, 6)}***${given.slice(-4)}` : "";
  return {
    status: 401,
    error: {
      message: given
        ? `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      type: "invalid_request_error",
      param: null,
      code: "invalid_api_key",
    },
  };
}
