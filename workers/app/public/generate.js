/**
 * A generation on the page, from a click (or a reloaded page that finds one running) to its
 * result: the state in words, previews, the images, and this browser's record of it, so that
 * nothing the user started is lost to a reload or a broken connection.
 */
import { cancelGeneration } from "./api.js";
import { elapsed, setBusy } from "./busy.js";
import { requestBody } from "./choices.js";
import { clearRunning, durablePart, loadRunning, saveRunning } from "./generation.js";
import { addToHistory, ownImageUrl } from "./history.js";
import { els, state } from "./page.js";
import { followToEnd } from "./reconnect.js";
import { renderError, renderHistory, renderPartial, renderResult, setStatus, showError } from "./render.js";
import { queueStatus } from "./words.js";

/** Generate was pressed (or Enter): one new generation, with its own Idempotency-Key. */
export function generate() {
  if (state.job) return;
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
  const body = requestBody(prompt);
  run({ body, key: newKey(), prompt, n: body.n ?? 1, startedAt: Date.now() }, "working");
}

/** On load: the generation an earlier page was waiting for, read on from where it was left. */
export function resumeStored() {
  const record = loadRunning();
  if (!record || state.job) return;
  els.prompt.value = record.prompt;
  run({ ...record, lastEventId: durablePart(record.lastEventId) }, "resuming");
}

/** Stops waiting; a queued generation is also cancelled on the server (a running one is paid). */
export function cancel() {
  const job = state.job;
  if (!job) return;
  job.follower.stop();
  if (job.id) cancelGeneration(job.id);
}

async function run(job, status) {
  state.job = job;
  setBusy(true, job.startedAt);
  setStatus(status);
  job.onEvent = (event) => onEvent(job, event);
  job.onOpen = () => {
    if (["reconnecting", "resuming"].includes(state.status?.key)) setStatus("working");
  };
  job.onReconnecting = () => setStatus("reconnecting");
  job.follower = followToEnd(job);
  const outcome = await job.follower.done;
  clearRunning();
  state.job = undefined;
  state.partial = undefined;
  setBusy(false);
  renderPartial();
  if (outcome.cancelled) return setStatus("cancelled");
  // Expired or unknown: nothing to show, and nothing went wrong that the user could act on.
  if (outcome.gone) return setStatus(undefined);
  if (outcome.error) {
    setStatus(undefined);
    return showError(outcome.error);
  }
  const { answer } = outcome;
  const got = answer.images.length;
  // What was asked for: the page's n, or more if the server says so (images_missing).
  const asked = Math.max(job.n, got + (Number(answer.images_missing) || 0));
  state.result = { answer, prompt: job.prompt, asked };
  const urls = answer.images.map((image) => ownImageUrl(image.url)).filter(Boolean);
  if (urls.length > 0) addToHistory({ urls, prompt: job.prompt, at: Date.now() });
  renderResult();
  renderHistory();
  if (asked > got) setStatus("doneFewer", { time: elapsed(), got, n: asked });
  else setStatus("done", { time: elapsed() });
}

function onEvent(job, { event, payload }) {
  if (event === "queued") {
    setStatus(...queueStatus(payload));
  } else if (event === "started") {
    if (payload?.status === "queued") setStatus("waiting");
  } else if (event === "running") {
    setStatus("working");
  } else if (event === "partial") {
    state.partial = { url: payload.url, n: (state.partial?.n ?? 0) + 1 };
    renderPartial();
    if (state.status?.key !== "working") setStatus("working");
  }
  // Kept after every event, so a reload asks only for what came after it.
  if (job.id) {
    const { id, lastEventId, prompt, n, startedAt } = job;
    saveRunning({ id, lastEventId, prompt, n, startedAt });
  }
}

/** A fresh Idempotency-Key. randomUUID needs a secure context; plain http on a LAN has none. */
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
