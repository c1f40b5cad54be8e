/** The form while a generation runs: Generate disabled, Cancel shown, the elapsed time ticking. */
import { els } from "./page.js";

let ticker;
let since = 0;

/** `startedAt` (ms since the epoch) is when the user clicked, so a reloaded page counts on from it. */
export function setBusy(busy, startedAt = Date.now()) {
  els.form.setAttribute("aria-busy", String(busy));
  clearInterval(ticker);
  if (busy) {
    els.cancel.hidden = false;
    // The focused Generate button is about to be disabled; keep keyboard users somewhere useful.
    if (document.activeElement === els.generate) els.cancel.focus();
    els.generate.disabled = true;
    since = startedAt;
    els.timer.hidden = false;
    tick();
    ticker = setInterval(tick, 250);
  } else {
    els.generate.disabled = false;
    if (document.activeElement === els.cancel) els.generate.focus();
    els.cancel.hidden = true;
    els.timer.hidden = true;
  }
}

/** The time since the click, "m:ss". */
export function elapsed() {
  const s = Math.max(0, Math.floor((Date.now() - since) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function tick() {
  els.timer.textContent = elapsed();
}
