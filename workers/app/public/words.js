/**
 * Numbers in a language's words: waits ("45 s", "3 min") and places in a line ("3rd", "3-й").
 * Plain functions of the language, without the page's state, so they can be checked on their own.
 */
import { translate } from "./i18n.js";

/** A wait in seconds in words: "45 s", "3 min", "5 h". */
export function waitText(lang, seconds) {
  if (seconds < 90) return translate(lang, "seconds", { n: Math.max(1, Math.round(seconds)) });
  if (seconds < 90 * 60) return translate(lang, "minutes", { n: Math.ceil(seconds / 60) });
  return translate(lang, "hours", { n: Math.ceil(seconds / 3600) });
}

/** A place in a line: English "1st", "2nd", "3rd", "11th"; Russian "3-й". */
export function ordinal(lang, n) {
  const form = new Intl.PluralRules(lang, { type: "ordinal" }).select(n);
  const text = translate(lang, `ordinal.${form}`, { n });
  return typeof text === "string" && text !== `ordinal.${form}` ? text : translate(lang, "ordinal.other", { n });
}

/**
 * The status for a `queued` event `{ position, eta_s }`: `[key, params]`. The params are
 * functions of the language, so a language switch words them again.
 */
export function queueStatus(payload) {
  const position = Number(payload?.position);
  const eta = Number(payload?.eta_s);
  if (!(position >= 1)) return ["waiting"];
  const pos = (lang) => ordinal(lang, position);
  return eta > 0 ? ["queued", { pos, eta: (lang) => waitText(lang, eta) }] : ["queuedNoEta", { pos }];
}
