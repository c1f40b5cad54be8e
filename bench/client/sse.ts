/**
 * Reads one SSE answer and notes when the first byte of each event arrived, on the machine-wide
 * monotonic clock that the upstream also uses to note when it wrote each event.
 */
import { request } from "node:http";
import { assertLoopback, type RequestSpec } from "./http.ts";

export interface ArrivedEvent {
  /** hrtime (ns, as a string for IPC) at which the event's first byte arrived. */
  at: string;
  /** The `event:` field, "message" without one, ":" for a comment (heartbeat) block. */
  name: string;
}

export interface StreamOutcome {
  status: number;
  contentType: string;
  events: ArrivedEvent[];
  head: string;
}

/** The event name from the start of an event block. */
function eventName(start: string): string {
  if (start.startsWith(":")) return ":";
  return /^event: ?([^\r\n]*)/m.exec(start)?.[1] ?? "message";
}

export function readStream(spec: RequestSpec, timeoutMs: number): Promise<StreamOutcome> {
  assertLoopback(spec.url);
  return new Promise((resolve, reject) => {
    const req = request(
      spec.url,
      { method: "POST", headers: { "content-type": "application/json", ...spec.headers } },
      (res) => {
        const events: Array<ArrivedEvent & { start: string }> = [];
        let head = "";
        let atEventStart = true;
        let previousNewline = false;
        res.on("data", (chunk: Buffer) => {
          const now = String(process.hrtime.bigint());
          if (head.length < 300) head += chunk.subarray(0, 300).toString();
          // An event that started at the end of the last chunk: its name line continues here.
          const last = events[events.length - 1];
          if (last && !atEventStart && !last.start.includes("\n") && last.start.length < 120) {
            last.start += chunk.subarray(0, 120).toString();
          }
          for (let i = 0; i < chunk.length; i++) {
            if (atEventStart) {
              events.push({ at: now, name: "", start: chunk.subarray(i, i + 120).toString() });
              atEventStart = false;
            }
            // A blank line ends an event; the byte after it starts the next one.
            const newline = chunk[i] === 10;
            if (newline && previousNewline) atEventStart = true;
            previousNewline = newline && !atEventStart;
          }
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"] ?? ""),
            events: events.map(({ at, start }) => ({ at, name: eventName(start) })),
            head,
          }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(spec.body);
  });
}
