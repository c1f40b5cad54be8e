/** What every part of the page shares: its elements, its state and the translator. */
import { initialLanguage, translate } from "./i18n.js";

/** Every element with an id, by camel-cased id: `els.customSizeField` is #custom-size-field. */
export const els = {};
for (const node of document.querySelectorAll("[id]")) {
  els[node.id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = node;
}

// Status, error, preview and result are kept as data, not text, so a language switch redraws them.
export const state = {
  lang: initialLanguage(),
  /** GET /api/config's answer, once loaded. */
  config: undefined,
  /** The generation being followed (generate.js), while one is. */
  job: undefined,
  status: undefined,
  error: undefined,
  partial: undefined,
  result: undefined,
};

export const t = (key, params) => translate(state.lang, key, params);

/** `el("a", { href }, "text")`: createElement with properties and children. */
export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}
