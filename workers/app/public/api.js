import { readEvents } from "./sse.js";

/**
 * The generation API. Both calls resolve to one of
 * - `{ answer }`: the generation succeeded (the synchronous answer's JSON);
 * - `{ error }`: it failed, or the server refused it (the API's error envelope, as the page shows it);
 * - `{ broken: true }`: the connection failed or ended before the last event (a lost network, an
 *   abort, a restarting server); the generation goes on on the server, so the caller reconnects.
 *   From startGeneration, also for an answer worth sending again with the same key: then with
 *   its `error` (shown if the tries run out) and `tries` (at most) or `retryAfter` (seconds);
 * - `{ gone: true }` (followGeneration only): the server does not know the id (expired, or never).
 * Every event read is passed to `onEvent({ event, id, payload })` as it comes; `onOpen()` is
 * called when a stream of events opens, `onActivity()` for every chunk of it (keep-alives too).
 */
export async function startGeneration(body, { key, signal, ...handlers }) {
  let res;
  try {
    res = await fetch("/api/generate/image", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream, application/json",
        // One key per click: a retry of this request (a double click, a reconnect before the
        // generation's id arrived) joins the same generation instead of paying for another.
        "idempotency-key": key,
      },
      body: JSON.stringify(body),
      signal,
    });
  } catch {
    return { broken: true };
  }
  if (res.status >= 500 && !isJson(res)) return { broken: true };
  const outcome = await readAnswer(res, handlers);
  // Sent again with the same key, the request joins its generation, so these are safe to retry:
  // a server error before any event (the generation may exist; one that says when to come back
  // is shown instead), and a join that came before the
  // first request's record (request_in_progress, with Retry-After).
  if (outcome.error && res.status >= 500 && !outcome.error.retryAfter)
    return { broken: true, error: outcome.error, tries: SERVER_ERROR_TRIES };
  if (outcome.error?.code === "request_in_progress") {
    return { broken: true, error: outcome.error, retryAfter: outcome.error.retryAfter ?? 1 };
  }
  return outcome;
}

/** How many times a server error answering the request is tried in all, before it is shown. */
export const SERVER_ERROR_TRIES = 3;

/** GET /api/generations/{id}/events from `lastEventId` on (replay, then live). */
export async function followGeneration(id, lastEventId, { signal, ...handlers }) {
  let res;
  try {
    res = await fetch(`/api/generations/${encodeURIComponent(id)}/events`, {
      headers: { accept: "text/event-stream", ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
      cache: "no-store",
      signal,
    });
  } catch {
    return { broken: true };
  }
  if (res.status === 404) return { gone: true };
  // A proxy or a restarting server in between: the generation itself is not over.
  if (res.status >= 500 || res.status === 408 || res.status === 429) return { broken: true };
  return readAnswer(res, handlers);
}

/**
 * DELETE /api/generations/{id}: a queued generation is dropped at no cost (200); a running or
 * ended one cannot be (409 not_cancellable: it is paid and finishes). Resolves to the status, or
 * undefined when the server could not be reached; never rejects.
 */
export async function cancelGeneration(id) {
  try {
    const res = await fetch(`/api/generations/${encodeURIComponent(id)}`, { method: "DELETE", keepalive: true });
    await res.body?.cancel();
    return res.status;
  } catch {
    return undefined;
  }
}

function isJson(res) {
  return (res.headers.get("content-type") ?? "").includes("application/json");
}

async function readAnswer(res, { onEvent, onOpen, onActivity }) {
  const requestId = res.headers.get("x-request-id") ?? undefined;
  const type = res.headers.get("content-type") ?? "";
  if (res.ok && type.startsWith("text/event-stream")) {
    onOpen?.();
    return readStream(res.body, requestId, onEvent, onActivity);
  }
  const json = isJson(res) ? await res.json().catch(() => undefined) : undefined;
  if (res.ok && Array.isArray(json?.images)) return { answer: json };
  return { error: errorFrom(json?.error, requestId, res.headers.get("retry-after")) };
}

async function readStream(body, requestId, onEvent, onActivity) {
  let rid = requestId;
  try {
    for await (const { event, data, id } of readEvents(body, onActivity)) {
      const payload = parseJson(data);
      if (event === "started") rid = payload?.request_id ?? rid;
      // Only inline image data is taken, so a preview can never make the page load another host.
      if (event === "partial" && !(typeof payload?.url === "string" && payload.url.startsWith("data:image/"))) continue;
      onEvent({ event, id, payload });
      if (event === "completed") {
        return Array.isArray(payload?.images) ? { answer: payload } : { error: { code: "unknown", requestId: rid } };
      }
      if (event === "error") return { error: errorFrom(payload?.error, rid) };
    }
  } catch {
    // The body broke (network loss, an abort): same as ending early.
  }
  return { broken: true };
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
