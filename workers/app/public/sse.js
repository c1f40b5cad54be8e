/**
 * Server-Sent Events read from a fetch() body. EventSource can only GET, and generating is a
 * POST with a JSON body, so the page parses the stream itself.
 *
 * Yields `{ event, data, id }` for each event; `id` is the last `id:` seen so far (the spec's
 * "last event ID", what a reconnect sends as Last-Event-ID), undefined before any. Comment lines
 * (": keep-alive") and unknown fields are skipped, as the SSE spec says. Lines end with "\n" or
 * "\r\n" (what the app sends). `onChunk()`, if given, is called for every chunk that arrives
 * (comments included), so a caller can tell a live connection from a silent dead one.
 */
export async function* readEvents(body, onChunk) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "";
  let data = [];
  let id;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onChunk?.();
      buffer += value;
      // A chunk can end mid-line: only whole lines are handled, the rest waits for the next chunk.
      let end = buffer.indexOf("\n");
      while (end >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, "");
        buffer = buffer.slice(end + 1);
        end = buffer.indexOf("\n");
        if (line === "") {
          if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const raw = colon < 0 ? "" : line.slice(colon + 1);
        const value = raw.startsWith(" ") ? raw.slice(1) : raw;
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        // An id with a NUL is ignored, as the spec says.
        else if (field === "id" && !value.includes("\0")) id = value;
      }
    }
  } finally {
    // Stops the download when the caller leaves the loop early (an error event, a cancel).
    reader.cancel().catch(() => {});
  }
}
