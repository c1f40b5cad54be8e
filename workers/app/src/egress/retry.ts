/**
 * What an answer means for the next step. Only answers that prove nothing was billed lead to
 * another try: a region block (refused before any work), a relay refusing the app itself, and a
 * rate limit (refused before any work; but never `insufficient_quota`, which waiting won't fix).
 */
import { parseOpenAIError, REGION_BLOCK_CODE } from "../../../shared/openai-wire";
import { RELAY_ERROR_TYPE } from "../../../shared/relay-protocol";
import { retryAfterMs } from "../../../shared/retry-after";

/** Statuses whose body must be read to decide; every other answer goes back as it came. */
export const STATUSES_TO_INSPECT = [401, 403, 429];

/** Rate-limited calls are sent again at most this many times. */
export const MAX_RATE_LIMIT_RETRIES = 2;

export type Verdict =
  | { kind: "region_block" }
  | { kind: "relay_refused"; code: string }
  | { kind: "rate_limited"; waitMs: number }
  | { kind: "final" };

/** Reads an inspected answer (status, headers, error body text) into a verdict. */
export function verdict(
  status: number,
  headers: Headers,
  text: string | null,
  fromRelay: boolean,
  retries: number,
): Verdict {
  const err = parseOpenAIError(text);
  if (status === 403 && err.code === REGION_BLOCK_CODE) return { kind: "region_block" };
  if (fromRelay && err.type === RELAY_ERROR_TYPE && (status === 401 || status === 403)) {
    return { kind: "relay_refused", code: err.code ?? "unknown" };
  }
  if (status === 429 && err.code !== "insufficient_quota" && err.type !== "insufficient_quota") {
    // Without a hint from the server: 1 s, then 2 s, as the official SDKs roughly do.
    return { kind: "rate_limited", waitMs: retryAfterMs(headers) ?? 1000 * 2 ** retries };
  }
  return { kind: "final" };
}

/** The shared parser (capped at an hour), here too for the callers of this module. */
export { retryAfterMs };
