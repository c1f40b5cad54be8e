import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AnswerTooLarge, UnreadableAnswer } from "../../../../workers/app/src/openai-answer/failure";
import { type ParseOptions, parseSSE, type ServerSentEvent } from "../../../../workers/app/src/openai-answer/sse";

/** A body made of the given pieces, as the runtime would deliver them. */
function bodyOf(pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
}

async function parseAll(pieces: string[]): Promise<ServerSentEvent[]> {
  const out: ServerSentEvent[] = [];
  for await (const event of parseSSE(bodyOf(pieces))) out.push(event);
  return out;
}

/** Cuts `text` at the given positions (sorted, deduplicated). */
function cut(text: string, at: number[]): string[] {
  const points = [...new Set(at.map((n) => n % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const p of points) {
    pieces.push(text.slice(from, p));
    from = p;
  }
  pieces.push(text.slice(from));
  return pieces;
}

const eventArb = fc.record({
  event: fc.constantFrom("message", "image_generation.partial_image", "image_generation.completed", "error"),
  // Data lines may not contain line breaks themselves; multi-line data is several lines.
  lines: fc.array(
    fc.string({ maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, "")),
    { minLength: 1, maxLength: 3 },
  ),
});

describe("parseSSE", () => {
  it("gives the same events however the body is split, with LF or CRLF line ends", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.boolean(),
        fc.boolean(),
        async (events, cuts, crlf, comments) => {
          const nl = crlf ? "\r\n" : "\n";
          const text = events
            .map(
              (e) =>
                (comments ? `: keep-alive${nl}${nl}` : "") +
                (e.event === "message" ? "" : `event: ${e.event}${nl}`) +
                e.lines.map((l) => `data: ${l}${nl}`).join("") +
                nl,
            )
            .join("");
          const parsed = await parseAll(cut(text, cuts));
          expect(parsed).toEqual(events.map((e) => ({ event: e.event, data: e.lines.join("\n") })));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("splits at every byte of a two-event body", async () => {
    const text = "event: a\ndata: 1\n\nevent: b\ndata: 22\n\n";
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        const events = await parseAll([text.slice(0, i), text.slice(i, j), text.slice(j)]);
        expect(events, `${i},${j}`).toEqual([
          { event: "a", data: "1" },
          { event: "b", data: "22" },
        ]);
      }
    }
  });

  it("reads a multi-megabyte event in small chunks intact", async () => {
    const data = "A".repeat(3 * 1024 * 1024);
    const text = `event: image_generation.completed\ndata: ${data}\n\n`;
    const pieces: string[] = [];
    for (let i = 0; i < text.length; i += 4096) pieces.push(text.slice(i, i + 4096));
    const events = await parseAll(pieces);
    expect(events).toHaveLength(1);
    expect(events[0]?.data.length).toBe(data.length);
  });

  it("keeps a last event that has no closing blank line", async () => {
    expect(await parseAll(["data: x\n"])).toEqual([{ event: "message", data: "x" }]);
  });
});

const IMAGE_EVENTS = new Set(["image_generation.completed"]);
const toB64 = (bytes: Uint8Array) => (bytes as unknown as { toBase64(): string }).toBase64();

async function parseImages(pieces: string[], options: ParseOptions = {}): Promise<ServerSentEvent[]> {
  const out: ServerSentEvent[] = [];
  for await (const event of parseSSE(bodyOf(pieces), { imageEvents: IMAGE_EVENTS, ...options })) out.push(event);
  return out;
}

describe("parseSSE with image events", () => {
  const image = crypto.getRandomValues(new Uint8Array(3000));
  const partial = `event: image_generation.partial_image\ndata: {"b64_json":"${toB64(image.subarray(0, 30))}"}\n\n`;
  const completed = `event: image_generation.completed\nid: 7\ndata: {"type":"image_generation.completed","b64_json":"${toB64(image)}","usage":{"total_tokens":5}}\n\n`;

  it("decodes a named event's images as they stream, however the body is split", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), async (cuts, crlf) => {
        const text = crlf ? (partial + completed).replaceAll("\n", "\r\n") : partial + completed;
        const [first, second, ...rest] = await parseImages(cut(text, cuts), { imageCapacity: () => 100 });
        expect(rest).toEqual([]);
        // Other events stay text.
        expect(first?.images).toBeUndefined();
        expect(first?.data).toContain(toB64(image.subarray(0, 30)));
        expect(second?.event).toBe("image_generation.completed");
        expect(JSON.parse(second?.data ?? "")).toEqual({
          type: "image_generation.completed",
          b64_json: "#0",
          usage: { total_tokens: 5 },
        });
        expect(second?.images).toHaveLength(1);
        expect(second?.images?.[0]).toEqual(image);
      }),
      { numRuns: 300 },
    );
  });

  it("joins multi-line data with a line break before decoding (JSON whitespace)", async () => {
    const text = `event: image_generation.completed\ndata: {"b64_json":\ndata: "${toB64(image)}"}\n\n`;
    const [event] = await parseImages([text]);
    expect(event?.data).toBe('{"b64_json":\n"#0"}');
    expect(event?.images?.[0]).toEqual(image);
  });

  it("keeps an event as text when its name comes after its data", async () => {
    const text = `data: {"b64_json":"${toB64(image)}"}\nevent: image_generation.completed\n\n`;
    const [event] = await parseImages([text]);
    expect(event?.event).toBe("image_generation.completed");
    expect(event?.images).toBeUndefined();
    expect(JSON.parse(event?.data ?? "").b64_json).toBe(toB64(image));
  });

  it("refuses an event longer than the limit, text or image, and cancels the body", async () => {
    for (const name of ["image_generation.completed", "image_generation.partial_image"]) {
      let cancelled = false;
      let head = `event: ${name}\ndata: {"b64_json":"`;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new TextEncoder().encode(head + "A".repeat(4096)));
          head = "";
        },
        cancel() {
          cancelled = true;
        },
      });
      const run = async () => {
        for await (const _ of parseSSE(body, { imageEvents: IMAGE_EVENTS, maxEventChars: 64 * 1024 })) {
          // no event ever ends
        }
      };
      await expect(run(), name).rejects.toBeInstanceOf(AnswerTooLarge);
      expect(cancelled, name).toBe(true);
    }
  });

  it("refuses an image event whose base64 does not decode", async () => {
    const text = 'event: image_generation.completed\ndata: {"b64_json":"not base64!"}\n\n';
    await expect(parseImages([text])).rejects.toBeInstanceOf(UnreadableAnswer);
  });

  it("ignores comments, id and retry lines, and reads a bare `data` line as empty data", async () => {
    const text = ": hello\nid: 1\nretry: 10\ndata\ndata: x\n\n";
    expect(await parseImages([text])).toEqual([{ event: "message", data: "\nx" }]);
  });
});
