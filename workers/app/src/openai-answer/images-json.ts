/**
 * Reads Images API JSON as it streams, decoding each `b64_json` value into bytes on the way
 * instead of holding the whole text, then the parsed string, then the decoded image (about 3.5
 * times the image in memory, and a 4 MiB image is a 5.5 MB string). Here the image bytes are
 * written once, into a buffer sized from a hint, and only the small rest of the JSON is kept,
 * with each image replaced by a placeholder `"#<n>"`.
 *
 * The scanner works on decoded text (each chunk decoded once): it walks the JSON outside those
 * values character by character (a few hundred of them), and jumps through a base64 value with
 * String `indexOf` (a memchr) to its closing quote, decoding with the runtime's `setFromBase64` as
 * pieces arrive. Both a JSON answer (readImagesJson) and the data of a streamed event (sse.ts)
 * go through it.
 */

import { Base64Sink } from "./base64-sink";
import { AnswerTooLarge, UnreadableAnswer } from "./failure";

export interface ImagesJson {
  /** The answer with every `b64_json` value replaced by `"#<n>"` (n: index into `images`). */
  value: unknown;
  images: Uint8Array[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const SLASH = 0x2f;
const KEY = "b64_json";
/** Longest JSON outside the images: a few hundred characters in practice. */
const MAX_REST_CHARS = 1024 * 1024;
/** First image buffer when nothing says how large the image is. */
export const DEFAULT_IMAGE_CAPACITY = 1024 * 1024;

/**
 * The incremental scanner: `push` decoded text as it comes, then `end` for the JSON text with
 * placeholders and the images. Throws UnreadableAnswer for base64 that does not decode or JSON
 * that ends inside a string, AnswerTooLarge when the rest passes its limit.
 */
export class ImagesJsonScanner {
  readonly images: Uint8Array[] = [];
  private readonly rest: string[] = [];
  private restChars = 0;
  // Scanner state, outside image values.
  private inString = false;
  private escaped = false;
  /** The string just closed (only its first 16 characters), and whether a ":" followed it. */
  private lastString = "";
  private current = "";
  private keyIsImage = false;
  private afterColon = false;
  private sink: Base64Sink | undefined;
  private escapedInImage = false;

  /** `capacity`: bytes of the first image's buffer (it grows if that is too small). */
  constructor(private readonly capacity: number = DEFAULT_IMAGE_CAPACITY) {}

  /**
   * Feeds the next piece of the answer's text. One loop over characters, long on purpose: it is
   * the scanner's state machine, run once per character of up to tens of MiB, where a call per
   * state would cost measurably (bench).
   */
  push(text: string): void {
    const n = text.length;
    let i = 0;
    let keptFrom = 0;
    while (i < n) {
      const sink = this.sink;
      if (sink) {
        if (this.escapedInImage) {
          // Only "\/" (some encoders escape "/") can appear in base64 text.
          if (text.charCodeAt(i) !== SLASH) throw new UnreadableAnswer("an unexpected escape in an image's base64");
          sink.write("/", false);
          this.escapedInImage = false;
          i++;
          continue;
        }
        // Inside an image value: jump to its end (or the end of this piece).
        const quoteAt = text.indexOf('"', i);
        const end = quoteAt < 0 ? n : quoteAt;
        const slashAt = text.indexOf("\\", i);
        if (slashAt >= 0 && slashAt < end) {
          // Rare: decode up to the escape, then go on after it.
          sink.write(text.slice(i, slashAt), false);
          this.escapedInImage = true;
          i = slashAt + 1;
          continue;
        }
        sink.write(i === 0 && end === n ? text : text.slice(i, end), quoteAt >= 0);
        if (quoteAt < 0) {
          i = n;
          keptFrom = n;
          break;
        }
        this.images.push(sink.bytes());
        this.sink = undefined;
        this.rest.push(`#${this.images.length - 1}"`);
        i = quoteAt + 1;
        keptFrom = i;
        continue;
      }
      const code = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (code === BACKSLASH) this.escaped = true;
        else if (code === QUOTE) {
          this.inString = false;
          this.lastString = this.current;
        } else if (this.current.length < 16) this.current += text[i];
      } else if (code === QUOTE) {
        if (this.afterColon && this.keyIsImage) {
          // The value of "b64_json": keep the opening quote, then decode until the closing one.
          this.keep(text, keptFrom, i + 1);
          this.sink = new Base64Sink(this.images[0]?.length ?? this.capacity);
          this.afterColon = false;
          i++;
          keptFrom = i;
          continue;
        }
        this.inString = true;
        this.current = "";
        this.afterColon = false;
      } else if (code === COLON) {
        this.keyIsImage = this.lastString === KEY;
        this.afterColon = true;
      } else if (code > 0x20) {
        this.afterColon = false;
        this.lastString = "";
      }
      i++;
    }
    if (!this.sink) this.keep(text, keptFrom, n);
  }

  /** The JSON text with a placeholder for each image; the images are in `images`. */
  end(): string {
    if (this.sink || this.inString) throw new UnreadableAnswer("the answer ended inside a string");
    return this.rest.join("");
  }

  private keep(text: string, from: number, to: number): void {
    if (to <= from) return;
    this.restChars += to - from;
    if (this.restChars > MAX_REST_CHARS) throw new AnswerTooLarge("the answer's text outside its images is too large");
    this.rest.push(from === 0 && to === text.length ? text : text.slice(from, to));
  }
}

/**
 * Reads `body` to the end. `sizeHint` (the answer's Content-Length, if any) sizes the first image
 * buffer; `maxBytes` bounds the whole answer. Throws UnreadableAnswer for text that is not JSON
 * or base64 that does not decode, AnswerTooLarge past the limit, and read errors as they come.
 */
export async function readImagesJson(
  body: ReadableStream<Uint8Array>,
  sizeHint: number | undefined,
  maxBytes: number,
): Promise<ImagesJson> {
  const decoder = new TextDecoder();
  const scanner = new ImagesJsonScanner(
    sizeHint && sizeHint > 0 ? Math.ceil((sizeHint * 3) / 4) : DEFAULT_IMAGE_CAPACITY,
  );
  let total = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      total += chunk.byteLength;
      if (total > maxBytes) throw new AnswerTooLarge(`the answer is larger than ${maxBytes} bytes`);
      scanner.push(decoder.decode(chunk, { stream: true }));
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  }
  scanner.push(decoder.decode());
  const text = scanner.end();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UnreadableAnswer("the answer is not JSON");
  }
  return { value, images: scanner.images };
}
