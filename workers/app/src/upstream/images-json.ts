/**
 * Reads an Images API JSON answer as it streams, decoding each `b64_json` value into bytes on
 * the way instead of holding the whole text, then the parsed string, then the decoded image (about
 * 3.5 times the image in memory, and a 4 MiB image is a 5.5 MB string). Here the image bytes are
 * written once, into a buffer sized from Content-Length, and only the small rest of the answer is
 * kept as JSON, with each image replaced by a placeholder `"#<n>"`.
 *
 * The scanner walks the JSON outside those values byte by byte (a few hundred bytes), and jumps
 * through a base64 value with `indexOf` to its closing quote, decoding with the runtime's
 * `setFromBase64` as chunks arrive.
 */

export interface ImagesJson {
  /** The answer with every `b64_json` value replaced by `"#<n>"` (n: index into `images`). */
  value: unknown;
  images: Uint8Array[];
}

export class UnreadableAnswer extends Error {}
export class AnswerTooLarge extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const SLASH = 0x2f;
const KEY = "b64_json";
/** Longest JSON outside the images: a few hundred bytes in practice. */
const MAX_REST_BYTES = 1024 * 1024;

type SetFromBase64 = (
  text: string,
  options?: { lastChunkHandling?: "loose" | "strict" | "stop-before-partial" },
) => { read: number; written: number };

/** Decodes one base64 value arriving in pieces into a buffer that grows when it must. */
class Base64Sink {
  private buffer: Uint8Array;
  private written = 0;
  private carry = "";

  constructor(capacity: number) {
    this.buffer = new Uint8Array(Math.max(capacity, 1024));
  }

  write(text: string, last: boolean): void {
    let input = this.carry + text;
    for (;;) {
      const room = this.buffer.subarray(this.written);
      const setFromBase64 = (room as unknown as { setFromBase64: SetFromBase64 }).setFromBase64;
      let result: { read: number; written: number };
      try {
        result = setFromBase64.call(room, input, { lastChunkHandling: last ? "loose" : "stop-before-partial" });
      } catch {
        throw new UnreadableAnswer("an image's base64 could not be decoded");
      }
      this.written += result.written;
      input = input.slice(result.read);
      if (input.length === 0) break;
      // A group of 4 characters needs at most 3 bytes: with that much room left, the decoder
      // stopped before a partial group, which waits for the next piece (or is an error at the end).
      if (room.length - result.written >= 3) {
        if (last) throw new UnreadableAnswer("an image's base64 ended with a partial group");
        break;
      }
      const grown = new Uint8Array(this.buffer.length * 2);
      grown.set(this.buffer.subarray(0, this.written));
      this.buffer = grown;
    }
    this.carry = input;
  }

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.written);
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
  const text = new TextDecoder();
  /** Base64 is ASCII; a separate decoder, so the rest's multi-byte state is never disturbed. */
  const ascii = new TextDecoder();
  const rest: string[] = [];
  let restBytes = 0;
  const images: Uint8Array[] = [];
  let total = 0;

  // Scanner state, outside image values.
  let inString = false;
  let escaped = false;
  /** The string just closed (only its first 16 bytes), and whether a ":" followed it. */
  let lastString = "";
  let current = "";
  let keyIsImage = false;
  let afterColon = false;
  let sink: Base64Sink | undefined;
  let escapedInImage = false;
  const firstCapacity = sizeHint && sizeHint > 0 ? Math.ceil((sizeHint * 3) / 4) : 1024 * 1024;

  const keep = (chunk: Uint8Array, from: number, to: number) => {
    if (to <= from) return;
    restBytes += to - from;
    if (restBytes > MAX_REST_BYTES) throw new AnswerTooLarge("the answer's text outside its images is too large");
    rest.push(text.decode(chunk.subarray(from, to), { stream: true }));
  };

  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      total += chunk.byteLength;
      if (total > maxBytes) throw new AnswerTooLarge(`the answer is larger than ${maxBytes} bytes`);
      let i = 0;
      let keptFrom = 0;
      while (i < chunk.length) {
        if (sink) {
          if (escapedInImage) {
            // Only "\/" (some encoders escape "/") can appear in base64 text.
            if (chunk[i] !== SLASH) throw new UnreadableAnswer("an unexpected escape in an image's base64");
            sink.write("/", false);
            escapedInImage = false;
            i++;
            continue;
          }
          // Inside an image value: jump to its end (or the end of this chunk). The search runs on
          // the decoded text: String indexOf is a memchr, a Uint8Array's is a loop (1 ms a MiB).
          // Base64 is ASCII, so a character's index is its byte's; any other byte is U+FFFD,
          // which the decoder refuses before an index past it matters.
          const tail = ascii.decode(chunk.subarray(i));
          const quoteAt = tail.indexOf('"');
          const end = quoteAt < 0 ? tail.length : quoteAt;
          const slashAt = tail.indexOf("\\");
          if (slashAt >= 0 && slashAt < end) {
            // Rare: decode up to the escape, then go on after it.
            sink.write(tail.slice(0, slashAt), false);
            escapedInImage = true;
            i += slashAt + 1;
            continue;
          }
          sink.write(end === tail.length ? tail : tail.slice(0, end), quoteAt >= 0);
          const quote = quoteAt < 0 ? -1 : i + quoteAt;
          if (quote < 0) {
            i = chunk.length;
            keptFrom = i;
            break;
          }
          images.push(sink.bytes());
          sink = undefined;
          rest.push(`#${images.length - 1}"`);
          i = quote + 1;
          keptFrom = i;
          continue;
        }
        const byte = chunk[i] as number;
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === BACKSLASH) escaped = true;
          else if (byte === QUOTE) {
            inString = false;
            lastString = current;
          } else if (current.length < 16) current += String.fromCharCode(byte);
        } else if (byte === QUOTE) {
          if (afterColon && keyIsImage) {
            // The value of "b64_json": keep the opening quote, then decode until the closing one.
            keep(chunk, keptFrom, i + 1);
            sink = new Base64Sink(images.length === 0 ? firstCapacity : (images[0]?.length ?? firstCapacity));
            afterColon = false;
            i++;
            keptFrom = i;
            continue;
          }
          inString = true;
          current = "";
          afterColon = false;
        } else if (byte === COLON) {
          keyIsImage = lastString === KEY;
          afterColon = true;
        } else if (byte > 0x20) {
          afterColon = false;
          lastString = "";
        }
        i++;
      }
      if (!sink) keep(chunk, keptFrom, chunk.length);
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  }
  if (sink || inString) throw new UnreadableAnswer("the answer ended inside a string");
  rest.push(text.decode());
  let value: unknown;
  try {
    value = JSON.parse(rest.join(""));
  } catch {
    throw new UnreadableAnswer("the answer is not JSON");
  }
  return { value, images };
}
