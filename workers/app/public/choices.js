/** The model, size, quality and count choices, all from GET /api/config (the operator's settings). */
import { els, state, t } from "./page.js";

/** Previews asked for while drawing. Each costs extra output tokens; two show progress well enough. */
const PARTIAL_IMAGES = 2;

export async function loadConfig() {
  try {
    const res = await fetch("/api/config", { headers: { accept: "application/json" } });
    const config = res.ok ? await res.json() : undefined;
    if (!Array.isArray(config?.models) || config.models.length === 0) throw new Error("no models");
    state.config = config;
    const max = config.limits?.prompt_max_chars;
    if (Number.isInteger(max) && max > 0) els.prompt.maxLength = max;
    const models = config.models.map((m) => [m.id, m.id]);
    setOptions(els.model, models, config.default_model);
    fillModelChoices();
    els.options.hidden = false;
  } catch {
    // Generating still works: without a model or size the server uses its own defaults.
    els.notice.hidden = false;
  }
}

function currentModel() {
  return state.config?.models.find((m) => m.id === els.model.value);
}

/** Size, quality and count for the chosen model; keeps the user's pick when the new list has it. */
export function fillModelChoices() {
  const model = currentModel();
  if (!model) return;
  const sizes = (model.sizes ?? []).map((s) => [s, sizeLabel(s)]);
  if (model.flexible_sizes) sizes.push(["custom", t("custom")]);
  setOptions(els.size, sizes, els.size.value || "auto");
  const qualities = (model.qualities ?? []).map((q) => [q, ["auto", "low", "medium", "high"].includes(q) ? t(q) : q]);
  setOptions(els.quality, qualities, els.quality.value || "auto");
  const counts = Array.from({ length: Math.max(1, model.max_images ?? 1) }, (_, i) => [String(i + 1), String(i + 1)]);
  setOptions(els.count, counts, els.count.value || "1");
  showCustomSize();
}

/** The free WxH box, for models that take any size (gpt-image-2). */
export function showCustomSize() {
  els.customSizeField.hidden = els.size.value !== "custom";
}

function setOptions(select, pairs, wanted) {
  select.replaceChildren(...pairs.map(([value, label]) => new Option(label, value)));
  select.value = pairs.some(([value]) => value === wanted) ? wanted : (pairs[0]?.[0] ?? "");
}

function sizeLabel(size) {
  const match = /^(\d+)x(\d+)$/.exec(size);
  if (!match) return size === "auto" ? t("auto") : size;
  const [w, h] = [Number(match[1]), Number(match[2])];
  return `${w}×${h} · ${t(w === h ? "square" : w > h ? "landscape" : "portrait")}`;
}

/** The JSON body for POST /api/generate/image from the prompt and the current choices. */
export function requestBody(prompt) {
  const body = { prompt };
  const model = currentModel();
  if (!model) return body;
  body.model = model.id;
  const custom = els.customSize.value
    .trim()
    .toLowerCase()
    .replace(/\s*[x×*]\s*/, "x");
  const size = els.size.value === "custom" ? custom : els.size.value;
  if (size) body.size = size;
  if (els.quality.value) body.quality = els.quality.value;
  if (Number(els.count.value) > 1) body.n = Number(els.count.value);
  // Only a model the server says can stream is asked to; a server without streaming refuses the field.
  if (model.streaming) {
    body.stream = true;
    body.partial_images = Math.min(PARTIAL_IMAGES, state.config.limits?.partial_images_max ?? 0);
  }
  return body;
}
