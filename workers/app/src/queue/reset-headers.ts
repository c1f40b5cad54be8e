/**
 * OpenAI's `x-ratelimit-*` answer headers, read for the fair queue: they can say that the next
 * call would be refused before a 429 has to say it.
 */
import { MAX_RETRY_AFTER_MS } from "../../../shared/retry-after";

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;

/**
 * OpenAI's reset durations (`6m0s`, `1s`, `20ms`, `1m30.5s`, `2h`) in milliseconds, at most an
 * hour (the upstream's word is capped as retry-after is); undefined when unreadable.
 */
export function parseResetDuration(text: string): number | undefined {
  const value = text.trim();
  if (!/^(\d+(\.\d+)?(h|ms|m|s))+$/.test(value)) return undefined;
  let ms = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) {
    ms += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  }
  return Math.min(Math.ceil(ms), MAX_RETRY_AFTER_MS);
}

/**
 * How long to hold calls when `x-ratelimit-remaining-requests` is 0: until
 * `x-ratelimit-reset-requests`. Undefined when calls remain or the reset is unreadable.
 */
export function requestsResetMs(headers: Headers): number | undefined {
  if (headers.get("x-ratelimit-remaining-requests")?.trim() !== "0") return undefined;
  return parseResetDuration(headers.get("x-ratelimit-reset-requests") ?? "");
}
