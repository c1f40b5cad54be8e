import { safeStorage } from "./i18n.js";

/**
 * The generation this browser is waiting for, kept in localStorage so a reload, a reopened tab or
 * a restarted phone browser can pick it up. It is saved before the request is sent, with its
 * Idempotency-Key and body: a reload before `started` sends the same request again, which joins
 * the generation (or starts it, if the first request never got in). Once `started` gave its id
 * (the capability to read it), the last event seen is kept too (sent back as Last-Event-ID).
 * `quiet`: the user cancelled a generation that could not be stopped; it is followed without
 * being shown, for the history.
 */
const STORAGE_KEY = "imagegen.running";
const ID = /^gen_[0-9a-f]{32}$/;
const KEY = /^[0-9A-Za-z-]{16,64}$/;

/**
 * A request without an id is sent again only this long after the click: the server keeps a key
 * for a day, but a request found days later would start a new paid generation nobody waits for.
 */
export const RESEND_MAX_AGE_MS = 10 * 60_000;

/**
 * `{ id?, key?, body?, lastEventId?, prompt, n, startedAt, quiet? }` with an id, or a key, a body
 * and a recent startedAt; undefined when none (an entry that is malformed or too old is dropped).
 */
export function loadRunning() {
  let record;
  try {
    record = JSON.parse(safeStorage(() => localStorage.getItem(STORAGE_KEY)) ?? "null");
  } catch {
    return undefined;
  }
  if (!record || typeof record !== "object") return undefined;
  const id = typeof record.id === "string" && ID.test(record.id) ? record.id : undefined;
  const key = typeof record.key === "string" && KEY.test(record.key) ? record.key : undefined;
  const body = record.body && typeof record.body === "object" ? record.body : undefined;
  const startedAt = typeof record.startedAt === "number" ? record.startedAt : undefined;
  const resendable = key && body && startedAt !== undefined && Date.now() - startedAt < RESEND_MAX_AGE_MS;
  if (!id && !resendable) {
    clearRunning();
    return undefined;
  }
  return {
    ...(id ? { id, key } : { key, body }),
    lastEventId: typeof record.lastEventId === "string" ? record.lastEventId : undefined,
    prompt: typeof record.prompt === "string" ? record.prompt : "",
    n: Number.isInteger(record.n) && record.n > 0 ? record.n : 1,
    startedAt: startedAt ?? Date.now(),
    quiet: record.quiet === true,
  };
}

/** Keeps `job`'s record: its id once known, else its key and body. */
export function saveRunning(job) {
  const { id, key, body, lastEventId, prompt, n, startedAt, quiet } = job;
  if (!ID.test(id ?? "") && !(key && body)) return;
  const record = id ? { id, key, lastEventId } : { key, body };
  safeStorage(() =>
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ ...record, prompt, n, startedAt, ...(quiet ? { quiet } : {}) })),
  );
}

/**
 * Whether the stored record is `job`'s (or there is none): a generation followed quietly after a
 * cancel must not overwrite or remove the record of one started after it.
 */
export function ownsRecord(job) {
  let record;
  try {
    record = JSON.parse(safeStorage(() => localStorage.getItem(STORAGE_KEY)) ?? "null");
  } catch {
    return true;
  }
  if (!record) return true;
  return (job.key !== undefined && record.key === job.key) || (job.id !== undefined && record.id === job.id);
}

export function clearRunning() {
  safeStorage(() => localStorage.removeItem(STORAGE_KEY));
}

/**
 * Last-Event-ID for a fresh page: only the durable part ("2" of "2.p1"). Previews and queue
 * positions are state, not history: the server sends the current one again unless the id given is
 * exactly its own, and a reloaded page no longer has it on screen.
 */
export function durablePart(lastEventId) {
  return lastEventId?.split(".")[0] || undefined;
}
