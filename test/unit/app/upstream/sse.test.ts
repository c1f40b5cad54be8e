import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSSE, type ServerSentEvent } from "../../../../workers/app/src/upstream/sse";

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
