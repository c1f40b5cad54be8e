/**
 * A generation on the page, from a click (or a reloaded page that finds one running) to its
 * result: the state in words, previews, the images, and this browser's record of it, so that
 * nothing the user started is lost to a reload or a broken connection.
 */
import { cancelGeneration } from "./api.js";
import { elapsed, setBusy } from "./busy.js";
import { requestBody } from "./choices.js";
import { clearRunning, durablePart, loadRunning, ownsRecord, saveRunning } from "./generation.js";
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
  const job = { body, key: newKey(), prompt, n: body.n ?? 1, startedAt: Date.now() };
  // Before the request leaves: a reload before `started` sends it again with the same key.
  saveRunning(job);
  run(job, "working");
}

/** On load: the generation an earlier page was waiting for, read on from where it was left. */
export function resumeStored() {
  const record = loadRunning();
  if (!record || state.job) return;
  const job = { ...record, lastEventId: durablePart(record.lastEventId) };
  if (job.quiet) return follow(job);
  els.prompt.value = record.prompt;
  run(job, "resuming");
}

/**
 * Cancel: the page stops waiting at once. A queued generation is cancelled on the server (free);
 * a running one is paid and finishes anyway, so it is followed quietly and its images go to the
 * history. Before `started` the page cannot tell which it is: it asks once the id arrives.
 */
export function cancel() {
  const job = state.job;
  if (!job) return;
  job.quiet = true;
  state.job = undefined;
  state.partial = undefined;
  setBusy(false);
  renderPartial();
  if (ownsRecord(job)) saveRunning(job);
  if (job.phase === "running") return setStatus("cancelKept");
  setStatus("cancelled");
  job.cancelStatus = state.status;
  if (job.id) askToCancel(job);
}

async function askToCancel(job) {
  job.cancelAsked = true;
  const status = await cancelGeneration(job.id);
  if (status === 200) return job.follower.stop();
  // Running or ended (409), a server without DELETE (405), unreachable: it goes on, followed
  // quietly. Unknown (404): the follower finds that out itself.
  if (status !== 404 && state.status === job.cancelStatus) setStatus("cancelKept");
}

async function run(job, status) {
  state.job = job;
  setBusy(true, job.startedAt);
  setStatus(status);
  const outcome = await follow(job);
  if (job.quiet) return;
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
  keepInHistory(job, answer);
  renderResult();
  if (asked > got) setStatus("doneFewer", { time: elapsed(), got, n: asked });
  else setStatus("done", { time: elapsed() });
}

/** Follows `job` to its end; its stored record goes then, unless the page gave up early. */
async function follow(job) {
  job.onEvent = (event) => onEvent(job, event);
  job.onOpen = () => {
    if (!job.quiet && ["reconnecting", "resuming"].includes(state.status?.key)) setStatus("working");
  };
  job.onReconnecting = () => {
    if (!job.quiet) setStatus("reconnecting");
  };
  job.follower = followToEnd(job);
  const outcome = await job.follower.done;
  if (!outcome.keep && ownsRecord(job)) clearRunning();
  // Cancelled but paid: its images are kept where the user will find them.
  if (job.quiet && outcome.answer) keepInHistory(job, outcome.answer);
  return outcome;
}

function keepInHistory(job, answer) {
  const urls = answer.images.map((image) => ownImageUrl(image.url)).filter(Boolean);
  // The list just written is the one shown: localStorage is read once, by addToHistory.
  renderHistory(urls.length > 0 ? addToHistory({ urls, prompt: job.prompt, at: Date.now() }) : undefined);
}

function onEvent(job, { event, payload }) {
  if (event === "started") job.phase = payload?.status === "running" ? "running" : "queued";
  else if (event === "queued") job.phase = "queued";
  else if (event === "running" || event === "partial") job.phase = "running";
  // Kept after every event, so a reload asks only for what came after it; not the final one, so
  // a reload in the moment before the record goes reads the end again rather than past it.
  if (event !== "completed" && event !== "error" && ownsRecord(job)) saveRunning(job);
  if (job.quiet) {
    if (event === "started" && job.cancelStatus && !job.cancelAsked) askToCancel(job);
    return;
  }
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
}

/** A fresh Idempotency-Key. randomUUID needs a secure context; plain http on a LAN has none. */
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
