import { RELAY_ERROR_TYPE, type RelayErrorCode } from "../../shared/relay-protocol";

/**
 * Errors the relay answers itself, in OpenAI's error shape so that OpenAI clients surface them
 * with their own error classes. `type: RELAY_ERROR_TYPE` tells them apart from OpenAI's own errors.
 */
export function relayError(
  status: number,
  code: RelayErrorCode,
  message: string,
  requestId: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(
    { error: { message, type: RELAY_ERROR_TYPE, param: null, code } },
    { status, headers: { "X-Request-Id": requestId, "X-Relay-Request-Id": requestId, ...headers } },
  );
}
