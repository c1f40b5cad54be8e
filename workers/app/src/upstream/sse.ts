/** One server-sent event: its name ("message" when unnamed) and its data lines joined. */
export interface ServerSentEvent {
  event: string;
  data: string;
}

/**
 * Parses an SSE body as it arrives. Events carrying partial images are megabytes of base64 on
 * one line, so the buffer is scanned only from where the last scan stopped, never from the start.
 */
export async function* parseSSE(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  let scanFrom = 0;
  for await (const chunk of body) {
    // CRLF and LF line ends both occur; dropping every CR can't split a CRLF across chunks.
    buffer += decoder.decode(chunk, { stream: true }).replaceAll("\r", "");
    for (;;) {
      const end = buffer.indexOf("\n\n", scanFrom);
      if (end < 0) {
        scanFrom = Math.max(0, buffer.length - 1);
        break;
      }
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      scanFrom = 0;
      const event = parseBlock(block);
      if (event) yield event;
    }
  }
  const rest = parseBlock(buffer + decoder.decode().replaceAll("\r", ""));
  if (rest) yield rest;
}

function parseBlock(block: string): ServerSentEvent | undefined {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length > 0 ? { event, data: data.join("\n") } : undefined;
}
