/**
 * The end-user page: a prompt, choices from GET /api/config, POST /api/generate/image read as a
 * stream of events with previews, the result and this browser's recent history. No framework
 * and no build step, so what is deployed is what is here.
 */
import { requestImages } from "./api.js";
import { fillModelChoices, loadConfig, requestBody, showCustomSize } from "./choices.js";
import { addToHistory, clearHistory, ownImageUrl } from "./history.js";
import { saveLanguage } from "./i18n.js";
import { els, state, t } from "./page.js";
import {
  renderError,
  renderHistory,
  renderPartial,
  renderResult,
  renderStatus,
  setStatus,
  showError,
} from "./render.js";

async function generate() {
  if (state.controller) return;
  const prompt = els.prompt.value.trim();
  Object.assign(state, { error: undefined, partial: undefined, result: undefined });
  renderPartial();
  renderResult();
  if (!prompt) {
    showError({ code: "empty_prompt" });
    els.prompt.focus();
    return;
  }
  renderError();
  const controller = new AbortController();
  state.controller = controller;
  setBusy(true);
  setStatus("working");
  let outcome;
  try {
    outcome = await requestImages(requestBody(prompt), { signal: controller.signal, onPartial: showPartial });
  } catch {
    outcome = controller.signal.aborted ? { cancelled: true } : { error: { code: "network" } };
  }
  const elapsed = formatElapsed(performance.now() - state.startedAt);
  state.controller = undefined;
  state.partial = undefined;
  setBusy(false);
  renderPartial();
  if (outcome.cancelled) return setStatus("cancelled");
  if (outcome.error) {
    setStatus(undefined);
    return showError(outcome.error);
  }
  state.result = { answer: outcome.answer, prompt };
  const urls = outcome.answer.images.map((image) => ownImageUrl(image.url)).filter(Boolean);
  if (urls.length > 0) addToHistory({ urls, prompt, at: Date.now() });
  renderResult();
  renderHistory();
  setStatus("done", { time: elapsed });
}

function showPartial(url) {
  state.partial = { url, n: (state.partial?.n ?? 0) + 1 };
  renderPartial();
}

function cancel() {
  state.controller?.abort();
}

let ticker;

function setBusy(busy) {
  els.form.setAttribute("aria-busy", String(busy));
  if (busy) {
    els.cancel.hidden = false;
    // The focused Generate button is about to be disabled; keep keyboard users somewhere useful.
    if (document.activeElement === els.generate) els.cancel.focus();
    els.generate.disabled = true;
    state.startedAt = performance.now();
    els.timer.hidden = false;
    tick();
    ticker = setInterval(tick, 250);
  } else {
    clearInterval(ticker);
    els.generate.disabled = false;
    if (document.activeElement === els.cancel) els.generate.focus();
    els.cancel.hidden = true;
    els.timer.hidden = true;
  }
}

function tick() {
  els.timer.textContent = formatElapsed(performance.now() - state.startedAt);
}

function formatElapsed(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const node of document.querySelectorAll("[data-i18n-label]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  }
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
  }
  fillModelChoices();
  renderStatus();
  renderError();
  renderPartial();
  renderResult();
  renderHistory();
}

els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  generate();
});
els.prompt.addEventListener("keydown", (event) => {
  // Enter generates, Shift+Enter is a new line; not while an input method is composing a word.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    generate();
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && els.form.contains(event.target)) {
    event.preventDefault();
    generate();
  } else if (event.key === "Escape" && state.controller) {
    cancel();
  }
});
els.cancel.addEventListener("click", cancel);
els.model.addEventListener("change", fillModelChoices);
els.size.addEventListener("change", showCustomSize);
els.clearHistory.addEventListener("click", () => {
  clearHistory();
  renderHistory();
  setStatus("historyCleared");
  // The button just hid itself; move focus to the section instead of losing it.
  els.historyTitle.focus();
});
for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => {
    state.lang = button.dataset.lang;
    saveLanguage(state.lang);
    applyLanguage();
  });
}

applyLanguage();
loadConfig();
