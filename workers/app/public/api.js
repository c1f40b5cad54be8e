import { readEvents } from "./sse.js";

/**
 * POST /api/generate/image. Resolves to `{ answer }` or `{ error }` however the server answered:
 * a stream of events (started, partial..., completed or error) or plain JSON (a server without
 * streaming, or a refusal before the stream opened). Rejects only on network loss or abort.
 */
export async function requestImages(body, { signal, onPartial }) {
  const res = await fetch("/api/generate/image", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream, application/json" },
    body: JSON.stringify(body),
    signal,
  });
  const requestId = res.headers.get("x-request-id") ?? undefined;
  const type = res.headers.get("content-type") ?? "";
  if (res.ok && type.startsWith("text/event-stream")) return readStream(res, requestId, signal, onPartial);
  const json = type.includes("application/json") ? await res.json().catch(() => undefined) : undefined;
  if (res.ok && Array.isArray(json?.images)) return { answer: json };
  return { error: errorFrom(json?.error, requestId, res.headers.get("retry-after")) };
}

async function readStream(res, requestId, signal, onPartial) {
  let id = requestId;
  try {
    for await (const { event, data } of readEvents(res.body)) {
      const payload = parseJson(data);
      if (event === "started") id = payload?.request_id ?? id;
      // Only inline image data is taken, so a preview can never make the page load another host.
      else if (event === "partial" && typeof payload?.url === "string" && payload.url.startsWith("data:image/")) {
        onPartial(payload.url);
      } else if (event === "completed") {
        return Array.isArray(payload?.images) ? { answer: payload } : { error: { code: "unknown", requestId: id } };
      } else if (event === "error") {
        return { error: errorFrom(payload?.error, id) };
      }
    }
  } catch (err) {
    if (signal.aborted) throw err;
  }
  // The body ended, or broke, before the final event.
  return { error: { code: "interrupted", requestId: id } };
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The API's error envelope as the page shows it; anything unreadable becomes "unknown". */
function errorFrom(error, requestId, retryAfter) {
  return {
    code: typeof error?.code === "string" ? error.code : "unknown",
    // The server's words are shown only where they tell the user what to fix (which setting).
    detail: error?.code === "invalid_request" && typeof error.message === "string" ? error.message : undefined,
    requestId: error?.request_id ?? requestId,
    retryAfter:
      Number.parseInt(retryAfter ?? "", 10) || (Number(error?.retry_after) > 0 ? Number(error.retry_after) : undefined),
  };
}
