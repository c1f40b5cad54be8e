import { safeStorage } from "./i18n.js";

/**
 * The generation this browser is waiting for, kept in localStorage so a reload, a reopened tab or
 * a restarted phone browser can pick it up: its id (the capability to read it), the last event
 * seen (sent back as Last-Event-ID), and what the page needs to show it again.
 */
const STORAGE_KEY = "imagegen.running";
const ID = /^gen_[0-9a-f]{32}$/;

/** `{ id, lastEventId, prompt, n, startedAt }`, or undefined when none (or the entry is malformed). */
export function loadRunning() {
  let record;
  try {
    record = JSON.parse(safeStorage(() => localStorage.getItem(STORAGE_KEY)) ?? "null");
  } catch {
    return undefined;
  }
  if (!record || typeof record.id !== "string" || !ID.test(record.id)) return undefined;
  return {
    id: record.id,
    lastEventId: typeof record.lastEventId === "string" ? record.lastEventId : undefined,
    prompt: typeof record.prompt === "string" ? record.prompt : "",
    n: Number.isInteger(record.n) && record.n > 0 ? record.n : 1,
    startedAt: typeof record.startedAt === "number" ? record.startedAt : Date.now(),
  };
}

export function saveRunning(record) {
  if (!ID.test(record.id ?? "")) return;
  safeStorage(() => localStorage.setItem(STORAGE_KEY, JSON.stringify(record)));
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
