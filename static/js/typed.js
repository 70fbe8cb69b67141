// "Your function": the landscape picker's entry for f(x, y) typed by the lecturer.
// The text goes to the server as is (POST /api/landscapes/custom), which reads it over an
// ast whitelist (landscapes/expr.py) and answers its metadata (minima found numerically)
// and its contour grid, or a 422 naming the column. Nothing here evaluates the text.
// The field is a draft: only a function the server accepted reaches the state (and so
// the URL, the runs and the plots), so the contours follow the typing, a moment behind.

import { postJSON } from "./api.js";
import { t } from "./i18n.js";
import {
  CUSTOM,
  DEFAULT_BOUNDS,
  getCatalog,
  landscapeRef,
  state,
  subscribe,
  typedKey,
  update,
} from "./state.js";

const $ = (id) => document.getElementById(id);
const PREVIEW_DELAY = 250; // ms after the last keystroke: one preview per pause, not per key
const GRID_RESOLUTION = 200; // as runs.js asks for a named landscape's grid
const GRID_DIGITS = 7;
const previews = new Map(); // typedKey -> Promise<{landscape, grid}>

/** The placeholder the picker lists until the server has described a typed function. */
export function addTypedEntry(catalog) {
  catalog.landscapes.set(CUSTOM, {
    name: CUSTOM,
    title: "Your function",
    formula: "",
    latex: "",
    about: "",
    bounds: DEFAULT_BOUNDS,
    default_start: [-1.8, 1.8], // the server's for DEFAULT_BOUNDS (landscapes/expr.py)
    minima: [],
  });
}

/** The server's reply for typed function `ref` ({expr, bounds}), fetched once per text and
 * bounds; its metadata becomes the picker's "custom" entry. Rejects with the server's words. */
export function loadTyped(ref) {
  const key = typedKey(ref);
  if (!previews.has(key)) {
    const body = { landscape: ref, resolution: GRID_RESOLUTION, digits: GRID_DIGITS };
    const promise = postJSON("/api/landscapes/custom", body);
    promise.catch(() => previews.delete(key));
    previews.set(key, promise);
  }
  return previews.get(key).then((reply) => {
    if (typedKey(landscapeRef()) === key) getCatalog().landscapes.set(CUSTOM, reply.landscape);
    return reply;
  });
}

/** A zoomed window of the typed function `ref`, coloured on its bounds' scale. */
export function loadTypedWindow(ref, window, resolution, digits) {
  return postJSON("/api/landscapes/custom", { landscape: ref, resolution, digits, window }).then(
    (reply) => reply.grid,
  );
}

// The server's commonest messages (landscapes/expr.py), said in the page's language.
const KNOWN = [
  [/^invalid syntax at column/, "expr.error.syntax"],
  [/^the expression ends too early at column/, "expr.error.end"],
  [/^'\(' was never closed at column/, "expr.error.open"],
  [/^unmatched '\)' at column/, "expr.error.close"],
  [/^invalid decimal literal at column/, "expr.error.product"],
  [/^division by zero at column/, "expr.error.zero"],
  [/^the exponent at column \d+ is too large/, "expr.error.exponent"],
];

/** The server's message in the page's language: the column always, the words where known. */
export function errorText(message) {
  const detail = String(message).replace(/^landscape(\.expr)?: /, "");
  const column = detail.match(/at column (\d+)/)?.[1];
  const name = detail.match(/^unknown name '([^']*)' at column (\d+)/);
  if (name) return t("expr.error.name", { name: name[1], column: name[2] });
  const fn = detail.match(/^unknown function '([^']*)' at column (\d+)/);
  if (fn) return t("expr.error.function", { name: fn[1], column: fn[2] });
  for (const [pattern, key] of KNOWN) {
    if (column && pattern.test(detail)) return t(key, { column });
  }
  if (column) return t("expr.error.column", { column, detail });
  return t("expr.error.other", { detail });
}

function readBounds() {
  const values = ["expr-xmin", "expr-xmax", "expr-ymin", "expr-ymax"].map((id) =>
    Number($(id).value),
  );
  if (!values.every(Number.isFinite)) return null;
  return [values.slice(0, 2), values.slice(2)];
}

function showError(text) {
  const box = $("expr-error");
  box.textContent = text || "";
  box.hidden = !text;
  $("expr").classList.toggle("invalid", Boolean(text));
}

let timer = null;
let asked = 0; // the latest draft sent: older replies are dropped

/** Send the field's draft; a function the server accepts becomes the state's. */
async function preview() {
  const bounds = readBounds();
  if (!bounds) {
    showError(t("expr.error.bounds"));
    return;
  }
  const ref = { expr: $("expr").value, bounds };
  const mine = ++asked;
  try {
    const reply = await loadTyped(ref);
    if (mine !== asked) return;
    showError(null);
    const meta = reply.landscape;
    const [[xmin, xmax], [ymin, ymax]] = meta.bounds;
    const [x, y] = state.start;
    const inside = xmin <= x && x <= xmax && ymin <= y && y <= ymax;
    update({
      expr: ref.expr,
      bounds: meta.bounds,
      start: state.landscape === CUSTOM && inside ? state.start : [...meta.default_start],
      t: null,
    });
  } catch (err) {
    if (mine === asked) showError(errorText(err.message));
  }
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(preview, PREVIEW_DELAY);
}

/** The field and the bounds show the state's function (the field only when not typing). */
function sync() {
  const on = state.landscape === CUSTOM;
  $("typed").hidden = !on;
  document.body.classList.toggle("typed-on", on);
  if (!on) return;
  const ref = landscapeRef();
  if (document.activeElement !== $("expr") && $("expr").value !== ref.expr) {
    $("expr").value = ref.expr;
  }
  const ids = ["expr-xmin", "expr-xmax", "expr-ymin", "expr-ymax"];
  ref.bounds.flat().forEach((v, i) => {
    if (document.activeElement !== $(ids[i])) $(ids[i]).value = String(v);
  });
}

/** Wire the field: live preview while typing, errors under it, bounds beside it. */
export function bindTyped() {
  $("expr").addEventListener("input", schedule); // keyboard.js leaves keys in fields alone
  for (const id of ["expr-xmin", "expr-xmax", "expr-ymin", "expr-ymax"]) {
    $(id).addEventListener("change", schedule);
  }
  subscribe((changed) => {
    if (changed.has("landscape") || changed.has("expr") || changed.has("bounds")) sync();
    if (changed.has("lang") && !$("expr-error").hidden) preview();
  });
  sync();
}

/** At start, a link's typed function is described by the server before anything draws
 * (its minima, its default start); a text it refuses shows its error in the field. */
export async function typedReady() {
  if (state.landscape !== CUSTOM) return;
  try {
    const meta = (await loadTyped(landscapeRef())).landscape;
    if (!new URLSearchParams(location.search).has("start")) {
      state.start = [...meta.default_start]; // the placeholder's was for the default bounds
    }
  } catch (err) {
    queueMicrotask(() => showError(errorText(err.message)));
  }
}
