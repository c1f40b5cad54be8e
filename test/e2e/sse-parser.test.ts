/**
 * The page's SSE parser (workers/app/public/sse.js) on its own, in Node: events split across
 * chunks anywhere, CRLF line ends, comments and multi-line data, as a network delivers them.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/build.ts";

interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

// A plain browser module without types: imported by URL so TypeScript does not try to check it.
const { readEvents } = (await import(pathToFileURL(join(ROOT, "workers/app/public/sse.js")).href)) as {
  readEvents(body: ReadableStream<Uint8Array>): AsyncIterable<SseEvent>;
};

async function parse(chunks: string[]): Promise<SseEvent[]> {
  const bytes = chunks.map((c) => new TextEncoder().encode(c));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const b of bytes) controller.enqueue(b);
      controller.close();
    },
  });
  const events: SseEvent[] = [];
  for await (const e of readEvents(body)) events.push(e);
  return events;
}

const STREAM =
  'event: started\ndata: {"request_id":"req_1"}\n\n: keep-alive\n\n' +
  'event: partial\ndata: {"index":0,"url":"data:image/png;base64,AAAA"}\n\n' +
  'event: completed\r\ndata: {"images":[]}\r\n\r\n';

describe("readEvents", () => {
  it("yields each event and skips keep-alive comments", async () => {
    expect(await parse([STREAM])).toEqual([
      { event: "started", data: '{"request_id":"req_1"}' },
      { event: "partial", data: '{"index":0,"url":"data:image/png;base64,AAAA"}' },
      { event: "completed", data: '{"images":[]}' },
    ]);
  });

  it("gives the same events however the bytes are split", async () => {
    const whole = await parse([STREAM]);
    for (const size of [1, 2, 3, 7, 16]) {
      const chunks = STREAM.match(new RegExp(`[\\s\\S]{1,${size}}`, "g")) ?? [];
      expect(await parse(chunks)).toEqual(whole);
    }
  });

  it("joins multi-line data, defaults the event name and ignores a last event without a blank line", async () => {
    expect(await parse(["data: a\ndata:b\n\nid: 7\nretry: 10\ndata: c\n\ndata: unfinished"])).toEqual([
      { event: "message", data: "a\nb" },
      { event: "message", data: "c", id: "7" },
    ]);
  });

  it("gives each event the last id seen, what a reconnect sends as Last-Event-ID", async () => {
    const events = await parse([
      "id: 1\nevent: started\ndata: {}\n\n",
      "id: 2.p1\nevent: partial\ndata: {}\n\n",
      "event: keep\ndata: x\n\n",
      "id: bad\0id\ndata: y\n\n",
    ]);
    expect(events.map((e) => e.id)).toEqual(["1", "2.p1", "2.p1", "2.p1"]);
    expect(events[0]?.id).toBe("1");
  });
});
