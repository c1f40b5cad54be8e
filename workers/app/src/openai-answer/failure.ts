/**
 * How reading a successful (2xx) answer of OpenAI failed, typed; failures/public.ts words it for
 * the client. Every kind comes after OpenAI did the work, so the call may have been billed.
 * - `unreadable`: not the JSON or the events the Images API sends, or no image in it.
 * - `too_large`: past the size this server accepts.
 * - `stream_error`: the stream's own `error` event.
 * - `undecodable`: an image's base64 does not decode.
 * - `download_failed`: a `url` image could not be fetched (one kind whatever the cause, so the
 *   answer tells whoever chose the URL nothing; the cause is logged).
 * - `not_image`: the bytes are not an image type we serve.
 */
export type AnswerFailureKind =
  | "unreadable"
  | "too_large"
  | "stream_error"
  | "undecodable"
  | "download_failed"
  | "not_image";

export class AnswerFailure extends Error {
  override name = "AnswerFailure";

  constructor(readonly kind: AnswerFailureKind) {
    super(`OpenAI's answer: ${kind}`);
  }
}

/** The scanner's (images-json.ts, sse.ts) own: the text is not the JSON it should be. */
export class UnreadableAnswer extends Error {}

/** The scanner's own: the answer is past the size this server accepts. */
export class AnswerTooLarge extends Error {}
