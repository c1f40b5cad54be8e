/**
 * Errors the relay answers itself, in OpenAI's error shape so that OpenAI clients surface them
 * with their own error classes. `type: "relay_error"` tells them apart from OpenAI's own errors.
 */
export function relayError(
  status: number,
  code: string,
  message: string,
  requestId: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(
    { error: { message, type: "relay_error", param: null, code } },
    { status, headers: { "X-Request-Id": requestId, "X-Relay-Request-Id": requestId, ...headers } },
  );
}
