import { ERROR_CODES, type ErrorCode } from "../errors";
import { answerOf, type GenerationAnswer, type GenerationError, type GenerationRecord } from "./types";

/** What `Generation.wait()` resolves with: the answer, or the error envelope's inner object and its status. */
export type WaitResult =
  | { ok: true; answer: GenerationAnswer; route?: string }
  | { ok: false; error: GenerationError; status: number };

/** An ended record as wait() gives it; undefined while it runs. */
export function waitResultOf(record: GenerationRecord): WaitResult | undefined {
  if (record.status === "succeeded") return { ok: true, answer: answerOf(record), route: record.route };
  if (record.status === "failed" && record.error) {
    const status = ERROR_CODES[record.error.code as ErrorCode]?.status ?? 502;
    return { ok: false, error: record.error, status };
  }
  return undefined;
}
