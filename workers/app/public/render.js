/** Drawing the page's state. Each function redraws from `state`, so a language switch is a redraw. */
import { loadHistory, ownImageUrl } from "./history.js";
import { el, els, state, t } from "./page.js";
import { waitText } from "./words.js";

/** Errors whose Retry-After header tells the user when to come back. */
const RETRYABLE = ["upstream_rate_limited", "rate_limited", "budget_exhausted", "budget_busy", "queue_full"];

export function setStatus(key, params) {
  state.status = key ? { key, params } : undefined;
  renderStatus();
}

export function renderStatus() {
  const status = state.status;
  if (!status) {
    els.status.textContent = "";
    return;
  }
  // A param may be a function, worded again in the current language at each redraw.
  const params = Object.fromEntries(
    Object.entries(status.params ?? {}).map(([name, value]) => [
      name,
      typeof value === "function" ? value(state.lang) : value,
    ]),
  );
  els.status.textContent = t(status.key, params);
}

export function showError(error) {
  state.error = error;
  renderError();
}

/** What happened and what to do, in words; the request id small, for support. Never the raw body. */
export function renderError() {
  const error = state.error;
  els.error.hidden = !error;
  if (!error) return els.error.replaceChildren();
  let text = t(`errors.${error.code}`);
  if (!Array.isArray(text)) text = t("errors.unknown");
  const [what, todo] = text;
  const wait = error.retryAfter && RETRYABLE.includes(error.code) ? waitText(state.lang, error.retryAfter) : undefined;
  els.error.replaceChildren(
    el("p", { className: "error-what", textContent: what }),
    el("p", { textContent: wait ? t("retryIn", { wait }) : todo }),
    ...(error.detail ? [el("p", { className: "error-detail", textContent: error.detail })] : []),
    ...(error.requestId
      ? [el("p", { className: "request-id", textContent: t("requestId", { id: error.requestId }) })]
      : []),
  );
}

export function renderPartial() {
  const partial = state.partial;
  els.preview.hidden = !partial;
  els.result.hidden = !partial && !state.result;
  if (!partial) return els.previewImg.removeAttribute("src");
  els.previewImg.src = partial.url;
  els.previewCaption.textContent = t("preview", { n: partial.n });
}

export function renderResult() {
  const result = state.result;
  els.result.hidden = !result && !state.partial;
  if (!result) return els.images.replaceChildren();
  const { answer, prompt, asked } = result;
  const figures = answer.images.flatMap((image, i) => {
    const url = ownImageUrl(image.url);
    if (!url) return [];
    const failed = el("p", { className: "image-failed", textContent: t("imageFailed"), hidden: true });
    const img = el("img", { src: url, alt: prompt, decoding: "async" });
    img.addEventListener("error", () => {
      failed.hidden = false;
    });
    const name = `${answer.id ?? "image"}${answer.images.length > 1 ? `-${i + 1}` : ""}.png`;
    const revised = image.revised_prompt
      ? [el("p", { textContent: t("revised", { text: image.revised_prompt }) })]
      : [];
    const download = el("a", { className: "button", href: url, download: name, textContent: t("download") });
    return [el("figure", { className: "image" }, img, failed, el("figcaption", {}, download, ...revised))];
  });
  // Never silently fewer: say so when the service returned fewer images than asked for.
  const got = answer.images.length;
  const note = asked > got ? [el("p", { className: "notice", textContent: t("fewer", { got, n: asked }) })] : [];
  els.images.replaceChildren(...note, ...figures);
}

/** The history list: `entries` as given (just saved), else read from localStorage. */
export function renderHistory(entries = loadHistory()) {
  els.historyEmpty.hidden = entries.length > 0;
  els.clearHistory.hidden = entries.length === 0;
  const when = new Intl.DateTimeFormat(state.lang, { dateStyle: "short", timeStyle: "short" });
  els.historyList.replaceChildren(...entries.map((entry) => historyItem(entry, when)));
}

function historyItem(entry, when) {
  const [url] = entry.urls;
  const reuse = el("button", { type: "button", className: "link-button", textContent: t("reuse") });
  reuse.addEventListener("click", () => {
    els.prompt.value = entry.prompt;
    els.prompt.focus();
  });
  // The thumbnail's alt text is the prompt, so the link has a name for screen readers.
  const thumb = el("img", { src: url, alt: entry.prompt, loading: "lazy", width: 64, height: 64 });
  const time = el("time", { dateTime: new Date(entry.at).toISOString(), textContent: when.format(entry.at) });
  const count = entry.urls.length > 1 ? ` · ${entry.urls.length}×` : "";
  return el(
    "li",
    {},
    el("a", { className: "thumb", href: url, target: "_blank", rel: "noopener" }, thumb),
    el(
      "div",
      { className: "entry" },
      el("p", { className: "entry-prompt", textContent: entry.prompt }),
      el("p", { className: "entry-meta" }, time, count),
      reuse,
    ),
  );
}
