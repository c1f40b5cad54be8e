import { followGeneration, startGeneration } from "./api.js";

/** Waits between attempts: 1 s, 2 s, 4 s … up to 15 s, with jitter so many pages don't align. */
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];

/**
 * Attempts in a row that bring no event before the page stops trying (about two minutes with the
 * waits above). Attempts made while the browser is offline don't count: it says when it is back.
 */
export const MAX_FAILURES = 10;

/**
 * An open stream with nothing at all for this long is taken as dead. The server sends a keep-alive
 * every STREAM_HEARTBEAT_MS (10 s by default); a connection from before a closed lid or a network
 * switch can hang without an error, and a reconnect only replays what was missed.
 */
export const SILENCE_MS = 45_000;

/**
 * One generation, from its request (or its stored id) to its end, across broken connections.
 * Without an id yet, the POST is sent again with the same Idempotency-Key (the server joins the
 * running generation); once `started` gave the id, the events are read again from the last one
 * seen. A lost network (the browser's `offline` event) drops the open connection at once,
 * because Chromium keeps connections open across it and they would hang; `online` reconnects
 * without waiting. A stream that ended after its `completed` or `error` event is final; one that
 * ended before is broken and read again, until the generation is gone (404) or MAX_FAILURES.
 *
 * `job`: `{ body, key, id?, lastEventId?, onEvent, onOpen, onReconnecting }`. Returns `{ answer }`,
 * `{ error }`, `{ gone: true }`, `{ cancelled: true }` (after `stop()`), or `{ error, keep: true }`
 * when it gave up: the generation may still end, so its stored record is worth keeping.
 */
export function followToEnd(job) {
  let stopped = false;
  let failures = 0;
  let serverErrors = 0;
  let connection;
  let wake;
  let silence;
  const onOffline = () => connection?.abort();
  const onOnline = () => wake?.();
  // Re-armed by every chunk. A POST's is armed once its stream opens (a plain JSON answer may
  // take minutes without a byte); a request for events is answered at once, so its is armed
  // before it is sent: it can sit on a kept-alive connection that died with the network.
  const onActivity = () => {
    clearTimeout(silence);
    silence = setTimeout(() => connection?.abort(), SILENCE_MS);
  };
  const onOpen = () => {
    onActivity();
    job.onOpen();
  };
  const onEvent = (event) => {
    if (event.id) job.lastEventId = event.id;
    if (event.event === "started" && typeof event.payload?.id === "string") job.id = event.payload.id;
    failures = 0;
    job.onEvent(event);
  };

  async function run() {
    addEventListener("offline", onOffline);
    addEventListener("online", onOnline);
    try {
      for (;;) {
        connection = new AbortController();
        const options = { signal: connection.signal, onEvent, onOpen, onActivity, key: job.key };
        let outcome;
        if (job.id) {
          onActivity();
          outcome = await followGeneration(job.id, job.lastEventId, options);
        } else {
          outcome = await startGeneration(job.body, options);
        }
        clearTimeout(silence);
        if (stopped) return { cancelled: true };
        if (!outcome.broken) return outcome;
        // A server error answering the POST has its own, smaller bound: it is shown soon.
        const tries = outcome.tries ? ++serverErrors : navigator.onLine === false ? failures : ++failures;
        if (tries >= (outcome.tries ?? MAX_FAILURES))
          return { error: outcome.error ?? { code: "unreachable" }, keep: true };
        job.onReconnecting();
        const backoff = BACKOFF_MS[Math.min(Math.max(tries - 1, 0), BACKOFF_MS.length - 1)];
        await pause(Math.max(backoff * (0.75 + Math.random() / 2), (outcome.retryAfter ?? 0) * 1000));
        if (stopped) return { cancelled: true };
      }
    } finally {
      clearTimeout(silence);
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
