/**
 * The end-user page: a prompt, choices from GET /api/config, a generation followed as a stream
 * of events with previews (resumed after a reload or a lost connection), the result and this
 * browser's recent history. No framework and no build step, so what is deployed is what is here.
 */
import { fillModelChoices, loadConfig, showCustomSize } from "./choices.js";
import { cancel, generate, resumeStored } from "./generate.js";
import { clearHistory } from "./history.js";
import { saveLanguage } from "./i18n.js";
import { els, state, t } from "./page.js";
import { renderError, renderHistory, renderPartial, renderResult, renderStatus, setStatus } from "./render.js";

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
  } else if (event.key === "Escape" && state.job) {
    cancel();
  }
});
els.cancel.addEventListener("click", cancel);
els.model.addEventListener("change", fillModelChoices);
els.size.addEventListener("change", showCustomSize);
els.clearHistory.addEventListener("click", () => {
  clearHistory();
  renderHistory([]);
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
resumeStored();
