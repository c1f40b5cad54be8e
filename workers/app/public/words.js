/** Numbers in the current language's words: waits ("45 s", "3 min") and places ("3rd", "3-й"). */
import { state, t } from "./page.js";

/** A wait in seconds in words: "45 s", "3 min", "5 h". */
export function waitText(seconds) {
  if (seconds < 90) return t("seconds", { n: Math.max(1, Math.round(seconds)) });
  if (seconds < 90 * 60) return t("minutes", { n: Math.ceil(seconds / 60) });
  return t("hours", { n: Math.ceil(seconds / 3600) });
}

/** A place in a line: English "1st", "2nd", "3rd", "11th"; Russian "3-й". */
export function ordinal(n) {
  const form = new Intl.PluralRules(state.lang, { type: "ordinal" }).select(n);
  const text = t(`ordinal.${form}`, { n });
  return text === `ordinal.${form}` ? t("ordinal.other", { n }) : text;
}

/**
 * The status for a `queued` event `{ position, eta_s }`: `[key, params]`. The params are
 * functions, so a language switch words them again.
 */
export function queueStatus(payload) {
  const position = Number(payload?.position);
  const eta = Number(payload?.eta_s);
  if (!(position >= 1)) return ["waiting"];
  const pos = () => ordinal(position);
  return eta > 0 ? ["queued", { pos, eta: () => waitText(eta) }] : ["queuedNoEta", { pos }];
}
