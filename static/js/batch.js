// The mini-batch control of a landscape over data (GET /api/landscapes `samples` = N > 0):
// a slider over 1, 2, 4, … and "full" (all N), a numeric field for any size 1 … N, and
// "race the full batch too", which races each optimizer on both beside each other. The
// mini-batches are the gradient noise, so the σ field rests at 0 while a size is set.
// Also the landscape's lines of words a data landscape needs: its formula and what it
// teaches, in the page's language. Controls only change the state (state.js).

import { has, t } from "./i18n.js";
import { landscapeMeta, samples, state, update } from "./state.js";

const $ = (id) => document.getElementById(id);

/** The slider's stops for N samples: 1, 2, 4, … below N, then null (the full batch). */
export function batchStops(n) {
  const stops = [];
  for (let b = 1; b < n; b *= 2) stops.push(b);
  return [...stops, null];
}

/** The stop nearest to `batch` (null: the last, the full batch), on a log scale. */
function stopIndex(stops, batch) {
  if (batch === null) return stops.length - 1;
  let best = 0;
  stops.forEach((b, i) => {
    if (b !== null && Math.abs(Math.log2(b / batch)) < Math.abs(Math.log2(stops[best] / batch)))
      best = i;
  });
  return best;
}

export function bindBatch() {
  $("batch-slider").addEventListener("input", (e) => {
    const stops = batchStops(samples());
    update({ batch: stops[Number(e.target.value)] ?? null, t: null });
  });
  const field = $("batch");
  const commit = (final) => {
    const n = samples();
    const v = Number(field.value);
    if (field.value.trim() === "" || !Number.isInteger(v) || v < 1 || v > n) {
      field.classList.add("invalid");
      if (final) {
        field.value = String(state.batch ?? n);
        field.classList.remove("invalid");
      }
      return;
    }
    field.classList.remove("invalid");
    // all N samples is the full batch (bit for bit): one state for it, not two
    update({ batch: v === n ? null : v, t: null });
  };
  field.addEventListener("input", () => commit(false));
  field.addEventListener("change", () => commit(true));
  $("batch-full").addEventListener("change", (e) =>
    update({ batchFull: e.target.checked, t: null }),
  );
}

/** Write the state into the batch controls, the noise field and the landscape's words. */
export function syncBatch() {
  const meta = landscapeMeta();
  const n = samples();
  const name = meta?.name ?? state.landscape;
  if (has(`formula.${name}`)) $("formula").textContent = t(`formula.${name}`);
  const about = $("landscape-about");
  about.hidden = !has(`about.${name}`);
  about.textContent = about.hidden ? "" : t(`about.${name}`);

  $("batch-inner").hidden = !n;
  const noise = $("noise");
  const batched = n > 0 && state.batch !== null;
  noise.disabled = batched;
  noise.title = batched ? t("batch.noiseOff") : "";
  if (batched) noise.value = "0";
  if (!n) return;
  const stops = batchStops(n);
  const slider = $("batch-slider");
  slider.max = String(stops.length - 1);
  if (slider !== document.activeElement) slider.value = String(stopIndex(stops, state.batch));
  slider.setAttribute(
    "aria-valuetext",
    state.batch === null ? t("batch.full", { n }) : String(state.batch),
  );
  const field = $("batch");
  field.max = String(n);
  if (field !== document.activeElement) field.value = String(state.batch ?? n);
  $("batch-of").textContent =
    state.batch === null
      ? t("batch.full", { n })
      : t("batch.of", { n, epoch: Math.ceil(n / state.batch) });
  const full = $("batch-full");
  full.checked = state.batchFull;
  full.disabled = state.batch === null;
}
