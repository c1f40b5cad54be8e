import { describe, expect, it } from "vitest";
import { readTextLimited } from "../../../workers/shared/read-limited";

/** A stream of the given chunks that records whether it was cancelled. */
function chunked(chunks: Uint8Array[]) {
  const state = { cancelled: false, pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[state.pulled++];
      if (next) controller.enqueue(next);
      else controller.close();
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}
const utf8 = (text: string) => new TextEncoder().encode(text);

describe("readTextLimited", () => {
  it("reads a missing body as empty text", async () => {
    expect(await readTextLimited(null, 10)).toBe("");
  });

  it("reads a body up to the limit, inclusive", async () => {
    expect(await readTextLimited(new Response("0123456789").body, 10)).toBe("0123456789");
  });

  it("returns null past the limit and cancels the rest", async () => {
    const { stream, state } = chunked([utf8("01234"), utf8("56789"), utf8("X"), utf8("never read")]);
    expect(await readTextLimited(stream, 10)).toBeNull();
    expect(state.cancelled).toBe(true);
    expect(state.pulled).toBeLessThan(4);
  });

  it("counts bytes, not characters", async () => {
    // 6 characters, 12 bytes.
    expect(await readTextLimited(new Response("éééééé").body, 11)).toBeNull();
    expect(await readTextLimited(new Response("éééééé").body, 12)).toBe("éééééé");
  });

  it("decodes a character split across chunks", async () => {
    const bytes = utf8("a€b");
    const { stream } = chunked([bytes.slice(0, 2), bytes.slice(2, 4), bytes.slice(4)]);
    expect(await readTextLimited(stream, 100)).toBe("a€b");
  });
});
