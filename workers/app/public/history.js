import { safeStorage } from "./i18n.js";

/**
 * This browser's recent results, newest first, in localStorage. Only URLs on the app's own
 * origin are kept (the images are stored for good there), never image data: a few hundred bytes
 * per entry.
 */
const STORAGE_KEY = "imagegen.history";
export const HISTORY_MAX = 10;

/** Entries `{ urls, prompt, at }`; anything malformed (old versions, hand edits) is dropped. */
export function loadHistory() {
  const raw = safeStorage(() => localStorage.getItem(STORAGE_KEY));
  let list;
  try {
    list = JSON.parse(raw ?? "[]");
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  return list
    .filter(
      (e) =>
        e &&
        typeof e.prompt === "string" &&
        typeof e.at === "number" &&
        Array.isArray(e.urls) &&
        e.urls.length > 0 &&
        e.urls.every((u) => ownImageUrl(u) === u),
    )
    .slice(0, HISTORY_MAX);
}

/** Adds `entry` first and returns the list as saved (what the page shows next). */
export function addToHistory(entry) {
  const list = [entry, ...loadHistory()].slice(0, HISTORY_MAX);
  safeStorage(() => localStorage.setItem(STORAGE_KEY, JSON.stringify(list)));
  return list;
}

export function clearHistory() {
  safeStorage(() => localStorage.removeItem(STORAGE_KEY));
}

/**
 * The image URL on this page's origin, or undefined. The app's answers name its own origin, but
 * behind a proxy the worker can see another host name; the image is served by this same worker at
 * the same path either way, and the page must never load anything from elsewhere.
 */
export function ownImageUrl(url) {
  let parsed;
  try {
    parsed = new URL(url, location.href);
  } catch {
    return undefined;
  }
  if (parsed.origin === location.origin) return parsed.href;
  return parsed.pathname.startsWith("/api/images/") ? new URL(parsed.pathname, location.href).href : undefined;
}
