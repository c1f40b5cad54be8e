import { describe, expect, it } from "vitest";
import { sseWriter } from "../../../../workers/app/src/generate/sse-writer";

async function textOf(body: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(body).text();
}

describe("sseWriter", () => {
  it("writes each event as one data line of JSON, comments as they are, then ends", async () => {
    const sse = sseWriter();
    const text = textOf(sse.body);
    await sse.send("started", { request_id: "req_1" });
    await sse.comment("keep-alive");
    // Line breaks inside the data stay escaped, so they can't end the event early.
    await sse.send("partial", { index: 0, url: "data:image/png;base64,AAAA", note: "a\nb\r\nc" });
    await sse.close();
    await sse.send("late", {});
    expect(await text).toBe(
      'event: started\ndata: {"request_id":"req_1"}\n\n' +
        ": keep-alive\n\n" +
        'event: partial\ndata: {"index":0,"url":"data:image/png;base64,AAAA","note":"a\\nb\\r\\nc"}\n\n',
    );
  });

  it("drops writes once the client has gone, without throwing", async () => {
    const sse = sseWriter();
    await sse.body.cancel();
    await expect(sse.send("partial", { index: 0 })).resolves.toBeUndefined();
    await expect(sse.close()).resolves.toBeUndefined();
  });
});
