/**
 * Stage timers: each stage of a call (opening a route, waiting for the answer's headers) gets its
 * own limit, and the caller's signal (client gone, overall deadline) cuts any stage short.
 */

export interface StageTimer {
  /** `promise`, unless the stage times out or the signal aborts first. */
  race<T>(promise: Promise<T>): Promise<T>;
  clear(): void;
}

/** Rejects with `onTimeout()` after `ms`, or with the signal's reason when it aborts. */
export function stageTimer(ms: number, signal: AbortSignal, onTimeout: () => Error): StageTimer {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let onAbort = () => {};
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    onAbort = () => reject(signal.reason);
  });
  expired.catch(() => {});
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return {
    race(promise) {
      // The loser may still reject later (a socket closed on timeout); that is expected.
      promise.catch(() => {});
      return Promise.race([promise, expired]);
    },
    clear() {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    },
  };
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
