/**
 * The answer's body as the app's code reads it: streamed chunk by chunk (never buffered), with
 * the idle limit applied between chunks, and failures turned into the app's own error so that
 * whoever reads the body (JSON or SSE) gets a stable code and the log says what happened.
 */

export interface BodyWatch {
  /** Longest wait for the next chunk while the reader is waiting for one. */
  idleMs: number;
  /** The caller's signal: when it aborts, its reason is the error (client gone, deadline). */
  signal: AbortSignal;
  /** The error the reader gets for a silence past idleMs or a broken body (also logs it). */
  fail(reason: "idle" | "broken", bytes: number, cause?: unknown): Error;
  /** Called once, when the body ends, fails or is cancelled. */
  done(): void;
}

/** A pull-driven stream over `read` (undefined marks the end); `close` drops the source. */
export function watchedBody(
  read: () => Promise<Uint8Array | undefined>,
  close: () => void,
  watch: BodyWatch,
): ReadableStream<Uint8Array> {
  let bytes = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    watch.done();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | null = null;
        const idle = new Promise<"idle">((resolve) => {
          timer = setTimeout(() => resolve("idle"), watch.idleMs);
        });
        const next = read();
        next.catch(() => {});
        try {
          const chunk = await Promise.race([next, idle]);
          if (chunk === "idle") {
            close();
            controller.error(watch.signal.aborted ? watch.signal.reason : watch.fail("idle", bytes));
            finish();
          } else if (chunk === undefined) {
            controller.close();
            finish();
          } else {
            bytes += chunk.byteLength;
            controller.enqueue(chunk);
          }
        } catch (err) {
          close();
          controller.error(watch.signal.aborted ? watch.signal.reason : watch.fail("broken", bytes, err));
          finish();
        } finally {
          clearTimeout(timer);
        }
      },
      cancel() {
        close();
        finish();
      },
    },
    { highWaterMark: 0 },
  );
}
