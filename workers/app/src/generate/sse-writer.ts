/**
 * Server-sent events written straight into one of the runtime's own streams
 * (IdentityTransformStream). Hono's streamSSE passes each event through two JavaScript streams (a
 * TransformStream, and a ReadableStream pulling from it) before the runtime takes it, and splits
 * its data on line breaks; for partial images of hundreds of KB that cost more CPU than the
 * rest of forwarding them (bench:ab --stream, see bench/README.md).
 */
export interface SseWriter {
  /** The response body. */
  readonly body: ReadableStream<Uint8Array>;
  /** One event with `value` as its JSON data: JSON.stringify's output is a single line. */
  send(event: string, value: unknown): Promise<void>;
  /** A comment line (heartbeats): proxies see traffic, EventSource clients ignore it. */
  comment(text: string): Promise<void>;
  /** Ends the stream; later writes are dropped. */
  close(): Promise<void>;
}

export function sseWriter(): SseWriter {
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  let open = true;
  const write = async (text: string) => {
    if (!open) return;
    try {
      await writer.write(encoder.encode(text));
    } catch {
      // The client went away: the generation is cancelled through the request's signal.
      open = false;
    }
  };
  return {
    body: readable,
    send: (event, value) => write(`event: ${event}\ndata: ${JSON.stringify(value)}\n\n`),
    comment: (text) => write(`: ${text}\n\n`),
    close: async () => {
      if (!open) return;
      open = false;
      await writer.close().catch(() => {});
    },
  };
}
