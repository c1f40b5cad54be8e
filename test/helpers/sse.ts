/** Reads an SSE response in the tests: events with their data parsed, and comment lines. */
export interface ReadEvent {
  event: string;
  data: unknown;
  /** The event's `id:` line, when it has one. */
  id?: string;
}

export interface SSEReader {
  /** The next event (comments are collected, not returned); undefined at the end. */
  next(): Promise<ReadEvent | undefined>;
  /** All remaining events. */
  rest(): Promise<ReadEvent[]>;
  comments: string[];
}

export function sseReader(res: Response): SSEReader {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const comments: string[] = [];
  let buffer = "";
  let done = false;

  async function next(): Promise<ReadEvent | undefined> {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        let id: string | undefined;
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) comments.push(line);
          else if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("id:")) id = line.slice(3).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length > 0) return { event, data: JSON.parse(data.join("\n")), ...(id === undefined ? {} : { id }) };
        continue;
      }
      if (done) return undefined;
      const chunk = await reader.read();
      if (chunk.done) done = true;
      else buffer += decoder.decode(chunk.value, { stream: true });
    }
  }

  return {
    next,
    comments,
    rest: async () => {
      const out: ReadEvent[] = [];
      for (let e = await next(); e; e = await next()) out.push(e);
      return out;
    },
  };
}
