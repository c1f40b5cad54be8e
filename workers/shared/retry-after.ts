/**
 * OpenAI's wait hints, read in one place for both the egress retries and what clients are told:
 * `retry-after-ms` (milliseconds, OpenAI's own), else `retry-after` in seconds or as an HTTP date
 * (RFC 9110). The value is the upstream's word, so it is capped: a broken or hostile upstream
 * that says `retry-after: 99999999999` must not make anyone wait three thousand years.
 */

/** The longest wait passed on or honoured: one hour. */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

/** Milliseconds to wait, at most MAX_RETRY_AFTER_MS; undefined when neither header is usable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  // A zero or negative retry-after-ms says nothing; retry-after may still.
  return retryAfterMsValue(headers.get("retry-after-ms")) ?? retryAfterValue(headers.get("retry-after"), now);
}

/** One `retry-after-ms` value in milliseconds, capped; undefined when unreadable or not above zero. */
export function retryAfterMsValue(text: string | null): number | undefined {
  const ms = parseNumber(text);
  return ms !== undefined && ms > 0 ? cap(Math.ceil(ms)) : undefined;
}

/** One `retry-after` value (seconds or an HTTP date) in milliseconds, capped; undefined when unreadable. */
export function retryAfterValue(text: string | null, now = Date.now()): number | undefined {
  const value = text?.trim();
  if (!value) return undefined;
  const seconds = parseNumber(value);
  if (seconds !== undefined) return cap(Math.ceil(seconds * 1000));
  if (/^\d|^-/.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : cap(Math.max(0, date - now));
}

/** A plain non-negative decimal ("3", "2.5"); anything else (signs, exponents, words) is not one. */
function parseNumber(text: string | null): number | undefined {
  if (text === null || !/^\s*\d+(\.\d+)?\s*$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

const cap = (ms: number) => Math.min(ms, MAX_RETRY_AFTER_MS);
