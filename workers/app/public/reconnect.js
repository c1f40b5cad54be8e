import { followGeneration, startGeneration } from "./api.js";

/** Waits between attempts: 1 s, 2 s, 4 s … up to 15 s, with jitter so many pages don't align. */
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];

/**
 * One generation, from its request (or its stored id) to its end, across broken connections.
 * Without an id yet, the POST is sent again with the same Idempotency-Key (the server joins the
 * running generation); once `started` gave the id, the events are read again from the last one
 * seen. A lost network (the browser's `offline` event) drops the open connection at once,
 * because Chromium keeps connections open across it and they would hang; `online` reconnects
 * without waiting. A server `error` event or answer is final.
 *
 * `job`: `{ body, key, id?, lastEventId?, onEvent, onOpen, onReconnecting }`. Returns `{ answer }`,
 * `{ error }`, `{ gone: true }` or `{ cancelled: true }` (after `stop()`).
 */
export function followToEnd(job) {
  let stopped = false;
  let connection;
  let wake;
  const onOffline = () => connection?.abort();
  const onOnline = () => wake?.();
  const onEvent = (event) => {
    if (event.id) job.lastEventId = event.id;
    if (event.event === "started" && typeof event.payload?.id === "string") job.id = event.payload.id;
    attempt = 0;
    job.onEvent(event);
  };
  let attempt = 0;

  async function run() {
    addEventListener("offline", onOffline);
    addEventListener("online", onOnline);
    try {
      for (;;) {
        connection = new AbortController();
        const options = { signal: connection.signal, onEvent, onOpen: job.onOpen, key: job.key };
        const outcome = job.id
          ? await followGeneration(job.id, job.lastEventId, options)
          : await startGeneration(job.body, options);
        if (stopped) return { cancelled: true };
        if (!outcome.broken) return outcome;
        job.onReconnecting();
        await pause(BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)] * (0.75 + Math.random() / 2));
        if (stopped) return { cancelled: true };
      }
    } finally {
      removeEventListener("offline", onOffline);
      removeEventListener("online", onOnline);
    }
  }

  /** Sleeps `ms`, or less when the browser comes back online or the user stops. */
  function pause(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(done, navigator.onLine === false ? 60_000 : ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  return {
    done: run(),
    /** The user cancelled: drop the connection and any wait. */
    stop() {
      stopped = true;
      connection?.abort();
      wake?.();
    },
  };
}
