/**
 * The contract between the app and the relay, declared once for both workers and for tools/
 * (doctor): how the app proves itself, where the relay reports on itself, the codes of the errors
 * the relay answers on its own, and the shape of its diagnostics. No imports, so Node's tools can
 * load it as it is.
 */

/** The header carrying RELAY_TOKEN from the app (or doctor) to the relay. */
export const RELAY_TOKEN_HEADER = "X-Relay-Token";

/** GET on this path answers the relay's diagnostics (RelayDiagnostics); it never reaches OpenAI. */
export const RELAY_DIAGNOSTICS_PATH = "/_relay/diagnostics";

/** The `error.type` of an answer the relay wrote itself, as opposed to one OpenAI wrote. */
export const RELAY_ERROR_TYPE = "relay_error";

/** Every `error.code` the relay answers with (type `relay_error`). */
export type RelayErrorCode =
  | "relay_token_missing"
  | "relay_token_invalid"
  | "relay_private"
  | "config_error"
  | "not_found"
  | "method_not_allowed"
  | "unsupported_media_type"
  | "payload_too_large"
  | "bad_content_length"
  | "headers_too_large"
  | "request_timeout"
  | "upstream_error"
  | "upstream_timeout"
  | "upstream_unreachable";

/** The codes by which the relay refuses the app itself: RELAY_TOKEN (or the relay's privacy) is wrong. */
export const RELAY_REFUSAL_CODES: readonly RelayErrorCode[] = [
  "relay_token_missing",
  "relay_token_invalid",
  "relay_private",
];

/** How the relay's config_error message starts; the words after it name the bad settings. */
export const RELAY_MISCONFIGURED_PREFIX = "The relay is misconfigured: ";

/** The relay's verdict on one egress path, or on itself. */
export type RelayVerdict = "ok" | "region_blocked" | "unreachable" | "misconfigured";

/** One egress path of the relay (its placement, or its fallback) as OpenAI's edge saw it. */
export interface RelayPathReport {
  verdict: RelayVerdict;
  egress_location: string | null;
  egress_colo: string | null;
  upstream_answered: boolean;
  models_status: number | null;
  /** true accepted, false rejected, null not confirmed (no key, or neither 200 nor 401). */
  key_accepted: boolean | null;
}

/**
 * The JSON of GET RELAY_DIAGNOSTICS_PATH. Readers treat every field as optional: the relay at the
 * other end may be an older or newer version.
 */
export interface RelayDiagnostics {
  verdict: RelayVerdict;
  relay: { colo: string | null; placement: string | null };
  key_configured: boolean;
  /** Set only with verdict "misconfigured": which settings to fix (never their values). */
  problems?: Array<{ setting: string; problem: string }>;
  placed: RelayPathReport | null;
  fallback: (RelayPathReport & { location: string }) | null;
}
