import { AnswerTooLarge } from "./failure";
import { DEFAULT_IMAGE_CAPACITY, ImagesJsonScanner } from "./images-json";

/** One server-sent event: its name ("message" when unnamed) and its data lines joined. */
export interface ServerSentEvent {
  event: string;
  /** The data lines joined by "\n"; with `images`, each `b64_json` value in it is `"#<n>"`. */
  data: string;
  /** The event's images, decoded as they streamed (events named in `imageEvents` only). */
  images?: Uint8Array[];
}

export interface ParseOptions {
  /**
   * Events whose JSON data carries `b64_json` images to decode while they stream, so the event
   * is never held as text. Chosen by the `event:` line, which comes before the data (as OpenAI
   * sends it); an event named only after its data is kept as text, which is still correct.
   */
  imageEvents?: ReadonlySet<string>;
  /** Longest data of one event, in characters (decoded images count as their base64). */
  maxEventChars?: number;
  /** Bytes of the first image buffer of a decoded event. */
  imageCapacity?: () => number;
}

/**
 * Past this an event is refused, so a stream that never ends an event can't exhaust the isolate's
 * memory. An image of 24 MB is 32 MiB of base64; OpenAI's largest (3840 pixels) are smaller.
 */
export const DEFAULT_MAX_EVENT_CHARS = 32 * 1024 * 1024;

const LF = 0x0a;
const COLON = 0x3a;
const SPACE = 0x20;
/** Longer field names are none we read ("data", "event"), so the line is skipped. */
const MAX_FIELD_CHARS = 16;
const MAX_EVENT_NAME_CHARS = 256;

type LineState = "start" | "field" | "data" | "event" | "skip";

/**
 * Parses an SSE body as it arrives, line by line, without ever searching the text of an event
 * again: each piece is scanned once, and a data line is handed on as it streams, to a list of
 * pieces (joined once per event) or, for image events, to the image decoder. Events carrying
 * images are megabytes of base64 in thousands of small chunks; holding them as text and then
 * parsing them kept about four copies of each image alive at once.
 */
export async function* parseSSE(
  body: ReadableStream<Uint8Array>,
  options: ParseOptions = {},
): AsyncGenerator<ServerSentEvent> {
  const imageEvents = options.imageEvents ?? new Set<string>();
  const maxChars = options.maxEventChars ?? DEFAULT_MAX_EVENT_CHARS;
  const decoder = new TextDecoder();

  // Set inside take(), so TypeScript must not narrow it to its first value.
  let state = "start" as LineState;
  let field = "";
  let valueStart = false;
  let eventName = "";
  let event = "message";
  let hasData = false;
  let chars = 0;
  let pieces: string[] = [];
  let scanner: ImagesJsonScanner | undefined;
  const ready: ServerSentEvent[] = [];

  const write = (text: string) => {
    chars += text.length;
    if (chars > maxChars) throw new AnswerTooLarge(`an event is longer than ${maxChars} characters`);
    if (scanner) scanner.push(text);
    else pieces.push(text);
  };
  const startDataLine = () => {
    if (hasData) write("\n");
    else {
      hasData = true;
      if (imageEvents.has(event)) {
        scanner = new ImagesJsonScanner(options.imageCapacity?.() ?? DEFAULT_IMAGE_CAPACITY);
      }
    }
  };
  const dispatch = () => {
    if (hasData) {
      ready.push(scanner ? { event, data: scanner.end(), images: scanner.images } : { event, data: pieces.join("") });
    }
    event = "message";
    hasData = false;
    chars = 0;
    pieces = [];
    scanner = undefined;
  };

  // One piece of the stream, line by line: the parser's state machine in one loop, long on
  // purpose (it runs per line of base64-heavy events, where a call per state costs).
  const take = (input: string) => {
    // CRLF and LF line ends both occur; dropping every CR can't split a CRLF across pieces.
    const text = input.includes("\r") ? input.replaceAll("\r", "") : input;
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (state === "start") {
        if (text.charCodeAt(i) === LF) {
          dispatch();
          i++;
          continue;
        }
        state = "field";
        field = "";
      }
      if (state === "field") {
        let j = i;
        let code = 0;
        while (j < n) {
          code = text.charCodeAt(j);
          if (code === COLON || code === LF) break;
          j++;
        }
        field += text.slice(i, j);
        if (j === n) {
          if (field.length > MAX_FIELD_CHARS) state = "skip";
          i = n;
          continue;
        }
        i = j + 1;
        if (code === LF) {
          // A field without a colon has an empty value.
          if (field === "data") startDataLine();
          else if (field === "event") event = "message";
          state = "start";
          continue;
        }
        valueStart = true;
        eventName = "";
        // A comment (":" first) and fields we don't read (id, retry, ...) are skipped.
        state = field === "data" ? "data" : field === "event" ? "event" : "skip";
        if (state === "data") startDataLine();
        continue;
      }
      if (valueStart) {
        valueStart = false;
        if (text.charCodeAt(i) === SPACE) {
          i++;
          continue;
        }
      }
      const nl = text.indexOf("\n", i);
      const end = nl < 0 ? n : nl;
      if (state === "data") {
        if (end > i) write(i === 0 && end === n ? text : text.slice(i, end));
      } else if (state === "event") {
        if (eventName.length < MAX_EVENT_NAME_CHARS)
          eventName += text.slice(i, Math.min(end, i + MAX_EVENT_NAME_CHARS));
        if (nl >= 0) event = eventName || "message";
      }
      if (nl < 0) i = n;
      else {
        state = "start";
        i = nl + 1;
      }
    }
  };

  for await (const chunk of body) {
    take(decoder.decode(chunk, { stream: true }));
    yield* ready.splice(0);
  }
  take(decoder.decode());
  // A last event without its closing blank line is still delivered.
  if (state === "event") event = eventName || "message";
  dispatch();
  yield* ready.splice(0);
}
