/** Header that carries the request id from the end user to the app, the relay and back. */
export const REQUEST_ID_HEADER = "X-Request-Id";

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The caller's request id when it is short and plain (so it can go into logs and headers
 * unescaped), otherwise a fresh one.
 */
export function requestIdFrom(headers: Headers): string {
  const given = headers.get(REQUEST_ID_HEADER);
  if (given && SAFE_ID.test(given)) return given;
  return `req_${crypto.randomUUID().replaceAll("-", "")}`;
}
