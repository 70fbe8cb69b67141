// "Inside the optimizer" (issue 12): for the runs the lecturer chose (state.inspect), the
// arrows at the cursor (arrows.js), a legend of their true lengths, the update rule in its
// lecture form with this update's numbers substituted term by term (MathML from
// /api/optimizers, app/equations.py), the per-axis effective learning rate of the adaptive
// methods over time, and step-by-step mode: N (or the button) takes exactly one update,
// lighting its terms in turn while the arrows glide from θₜ to θₜ₊₁.
/* global Plotly */

import { arrowStyle } from "./arrows.js";
import { t } from "./i18n.js";
import {
  ADAPTIVE,
  arrowsAt,
  effectiveLr,
  momentumName,
  typicalLengths,
  updateAt,
  updateValues,
} from "./inside_math.js";
import { cursor, play, setCursor } from "./playback.js";
import { logAxisTicks, StepChart, stepChartFrame, stepChartMargin, theme } from "./plot.js";
import { current } from "./runs.js";
import { gradientFree, optimizerSpec, optimizerTitle, state, update } from "./state.js";

const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ numbers as MathML
const MINUS = "\u2212";

/** A number to 4 significant digits, as text and as MathML (1.234 × 10⁻⁵ where small). */
export function numberParts(v) {
  if (!Number.isFinite(v)) return { mantissa: "—", exponent: null };
  if (v === 0) return { mantissa: "0", exponent: null };
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e4) {
    const text = Number(v.toPrecision(4)).toString();
    return { mantissa: text.replace("-", MINUS), exponent: null };
  }
  const [m, e] = v.toExponential(3).split("e");
  return { mantissa: String(Number(m)).replace("-", MINUS), exponent: Number(e) };
}

// Every number has the same MathML, "m × 10^e" with the power part empty and hidden when
// it has none, so moving the cursor rewrites a few texts instead of re-parsing the terms.
const NUMBER =
  '<mrow class="n" data-v=""><mn></mn><mo class="e">×</mo><msup class="e"><mn>10</mn><mn></mn></msup></mrow>';

function mnOf() {
  return NUMBER;
}

/** Write `v` into a number's MathML (NUMBER): its mantissa, and its power of ten if any. */
function setNumber(el, v) {
  const { mantissa, exponent } = numberParts(v);
  el.dataset.v = String(v);
  const [mn, times, power] = el.children;
  mn.textContent = mantissa;
  const plain = exponent === null;
  times.textContent = plain ? "" : "×";
  times.style.display = plain ? "none" : "";
  power.style.display = plain ? "none" : "";
  power.children[0].textContent = plain ? "" : "10";
  power.children[1].textContent = plain ? "" : String(exponent).replace("-", MINUS);
}

/** Fill every slot of the terms in `root` with the numbers of `values`. */
function setSlots(root, values) {
  for (const slot of root.querySelectorAll("[data-slot]")) {
    const value = values[slot.dataset.slot];
    const numbers = slot.querySelectorAll(".n");
    if (Array.isArray(value)) {
      slot.dataset.v = value.join(",");
      value.forEach((x, i) => {
        setNumber(numbers[i], x);
      });
    } else setNumber(numbers[0], value);
  }
}

/** A value as MathML: a scalar, or an (x, y) vector as a column. `name` marks the slot. */
function valueML(name, value) {
  if (Array.isArray(value)) {
    const cells = value.map(() => `<mtr><mtd>${mnOf()}</mtd></mtr>`).join("");
    return `<mrow class="vec" data-slot="${name}" data-v="${value.join(",")}"><mo>(</mo><mtable>${cells}</mtable><mo>)</mo></mrow>`;
  }
  return `<mrow data-slot="${name}">${mnOf()}</mrow>`;
}

/** A term's MathML template with its {slots} filled from `values`. */
export function fillTerm(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, name) =>
    values[name] === undefined ? "<mi>?</mi>" : valueML(name, values[name]),
  );
}

const SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉";
const subscript = (n) => [...String(n)].map((d) => SUBSCRIPTS[Number(d)]).join("");

// ------------------------------------------------------------------ what is inspected
/** Runs shown from inside: inspected, enabled, and recorded by the server. */
export function inspectedRuns(runs = current().runs) {
  return runs.filter((r) => state.inspect.includes(r.optimizer) && r.record);
}

let focus = null; // the optimizer the equation panel shows (one of state.inspect)

function focusRun(runs) {
  const shown = inspectedRuns(runs);
  return shown.find((r) => r.optimizer === focus) ?? shown[0] ?? null;
}

/** The gradient-free method the panel shows (its lecture form only), or null: the focus if
 * it is one, else the first inspected one while no recorded run is there to show. */
function freeFocus(run) {
  const free = state.inspect.filter((n) => gradientFree(n) && state.optimizers.includes(n));
  if (free.includes(focus)) return focus;
  return run ? null : (free[0] ?? null);
}

// ------------------------------------------------------------------ step-by-step mode
let animation = null; // {from, frame, resolve}
const TERM_MS = 160;
const GLIDE_MS = 420;

function reducedMotion() {
  return window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;
}

let view = null; // {mainView, redraw()} from render.js

/** The arrows of every run shown from inside at update `at` (the cursor), for plot.js. */
export function arrowSpec(runs, at, presentation, progress = 0) {
  const shown = inspectedRuns(runs);
  if (!shown.length) return null;
  const items = [];
  const typical = {};
  const steps = {};
  for (const run of shown) {
    const arrows = arrowsAt(run, updateAt(run, at));
    items.push(...arrows);
    const step = arrows.find((a) => a.kind === "step");
    if (step) steps[run.optimizer] = step.vec;
    // One scale per kind across the runs: the largest typical length sets it.
    for (const [kind, length] of Object.entries(typicalLengths(run))) {
      typical[kind] = Math.max(typical[kind] ?? 0, length);
    }
  }
  return { items, typical, steps, presentation, progress };
}

/** Finish a running step animation now: the cursor lands on its update's end. */
function finishAnimation() {
  if (!animation) return;
  const a = animation;
  animation = null;
  cancelAnimationFrame(a.frame);
  highlight(null);
  setCursor(a.from + 1);
  a.resolve();
}

/**
 * Take exactly one update from the cursor: light its terms one by one, glide its arrows
 * from θₜ to θₜ₊₁, then move the cursor to t + 1. A press during an animation completes
 * that one first, so every press is one update.
 */
export function stepOnce() {
  play(false);
  finishAnimation();
  const from = cursor();
  const runs = current().runs;
  const run = freeFocus(focusRun(runs)) ? null : focusRun(runs);
  const values = run ? updateValues(run, from) : null;
  if (!values || reducedMotion()) {
    setCursor(from + 1);
    return Promise.resolve();
  }
  const terms = [...document.querySelectorAll("#inside-terms .term")];
  const walk = terms.length * TERM_MS;
  const start = performance.now();
  return new Promise((resolve) => {
    animation = { from, frame: 0, resolve };
    const tick = (now) => {
      if (!animation || animation.from !== from) return;
      if (cursor() !== from) {
        // The cursor moved elsewhere (a scrub, a key): that wins, the step is dropped.
        animation = null;
        highlight(null);
        view?.redraw();
        resolve();
        return;
      }
      const elapsed = now - start;
      highlight(Math.min(terms.length - 1, Math.floor(elapsed / TERM_MS)));
      const progress = Math.max(0, Math.min(1, (elapsed - walk) / GLIDE_MS));
      const spec = arrowSpec(current().runs, from, state.presentation, easeInOut(progress));
      view?.mainView.redrawArrows(spec);
      if (elapsed >= walk + GLIDE_MS) {
        finishAnimation();
        return;
      }
      animation.frame = requestAnimationFrame(tick);
    };
    animation.frame = requestAnimationFrame(tick);
  });
}

const easeInOut = (x) => (x < 0.5 ? 2 * x * x : 1 - (-2 * x + 2) ** 2 / 2);

function highlight(index) {
  const terms = document.querySelectorAll("#inside-terms .term");
  terms.forEach((el, i) => {
    el.classList.toggle("lit", i === index);
    el.classList.toggle("done", index !== null && i < index);
  });
}

export const stepping = () => animation !== null;

// ------------------------------------------------------------------ the panel
const html = (text) =>
  String(text).replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c],
  );

/** A small arrow in a kind's style, for the legend. */
function arrowIcon(kind, size) {
  const s = arrowStyle(kind);
  const w = Math.round(size * 2.6);
  const h = Math.round(size * 1.1);
  const dash = s.dash.length ? `stroke-dasharray="${s.dash.join(" ")}"` : "";
  const y = h / 2;
  return `<svg class="arrow-key" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" aria-hidden="true">
    <line x1="2" y1="${y}" x2="${w - 8}" y2="${y}" stroke="#000" stroke-width="${s.width + 2.5}" stroke-linecap="round"/>
    <line x1="2" y1="${y}" x2="${w - 8}" y2="${y}" stroke="${s.color}" stroke-width="${s.width}" ${dash} stroke-linecap="round"/>
    <polygon points="${w - 1},${y} ${w - 10},${y - 5} ${w - 10},${y + 5}" fill="${s.color}" stroke="#000" stroke-width="1"/></svg>`;
}

function shortNumber(v) {
  const { mantissa, exponent } = numberParts(v);
  if (exponent === null) return mantissa;
  return `${mantissa}×10<sup>${String(exponent).replace("-", MINUS)}</sup>`;
}

function arrowLabel(kind, run) {
  if (kind !== "momentum") return t(`arrow.${kind}`);
  return t(`arrow.momentum.${momentumName(run.record)}`);
}

/** The arrows' legend: what each is, its true length per run, the scale it is drawn at. */
function renderLegend(el, shown, at, drawn) {
  const kinds = ["grad", "momentum", "step"].filter((kind) =>
    shown.some((run) => kind !== "momentum" || momentumName(run.record)),
  );
  const head = shown
    .map(
      (run) =>
        `<th scope="col" class="num"><span class="swatch" style="background:${html(run.color)}"></span>${html(run.title)}</th>`,
    )
    .join("");
  const rows = kinds.map((kind) => {
    const cells = shown.map((run) => {
      const arrow = drawn.find((a) => a.kind === kind && a.optimizer === run.optimizer);
      const scale = arrow && arrow.scale !== 1 ? ` <span class="scale">×${arrow.scale}</span>` : "";
      const text = arrow ? `${shortNumber(arrow.length)}${scale}` : "—";
      return `<td class="num" data-kind="${kind}" data-optimizer="${html(run.optimizer)}" data-length="${arrow ? arrow.length : ""}">${text}</td>`;
    });
    const name = arrowLabel(
      kind,
      shown.find((r) => kind !== "momentum" || momentumName(r.record)),
    );
    return `<tr data-kind="${kind}"><th scope="row">${arrowIcon(kind, 12)}<span>${html(name)}</span></th>${cells.join("")}</tr>`;
  });
  el.innerHTML = `<thead><tr><th scope="col">${html(t("arrow.legend", { t: at }))}</th>${head}</tr></thead><tbody>${rows.join("")}</tbody>`;
}

function renderTabs(el, shown, run) {
  const key = shown.map((r) => r.optimizer).join(",");
  if (el.dataset.key !== `${key}|${run?.optimizer}|${state.lang}`) {
    el.dataset.key = `${key}|${run?.optimizer}|${state.lang}`;
    el.innerHTML =
      shown.length > 1
        ? shown
            .map(
              (r) =>
                `<button type="button" class="chip tab" data-optimizer="${html(r.optimizer)}" aria-pressed="${r === run}"><span class="swatch" style="background:${html(r.color)}"></span>${html(r.title)}</button>`,
            )
            .join("")
        : "";
  }
}

let lectureKey = null;

/** Draw the panel for the cursor's update. Cheap: a few innerHTML writes, no Plotly. */
export function renderInside({ runs, at, drawn }) {
  const panel = $("inside");
  const shown = inspectedRuns(runs);
  const wanted = state.inspect.some((name) => state.optimizers.includes(name));
  panel.hidden = !wanted;
  document.body.classList.toggle("inspecting", wanted);
  if (!wanted) return;
  let run = focusRun(runs);
  const free = freeFocus(run);
  if (free) run = null;
  panel.classList.toggle("gradient-free", Boolean(free));
  // tabs: the recorded runs and the gradient-free methods shown from inside
  const tabbed = runs.filter(
    (r) => state.inspect.includes(r.optimizer) && (r.record || gradientFree(r.optimizer)),
  );
  renderTabs($("inside-tabs"), tabbed, run ?? tabbed.find((r) => r.optimizer === free));
  if (free) {
    renderFree(free);
    return;
  }
  const title = run ? run.title : (optimizerSpec(state.inspect[0])?.title ?? "");
  $("inside-title").textContent = t("inside.title", { name: title });
  if (!run) {
    $("inside-update").textContent = t("inside.waiting");
    $("arrow-legend").innerHTML = "";
    $("inside-lecture").innerHTML = "";
    $("inside-terms").innerHTML = "";
    $("inside-terms").dataset.key = "";
    lectureKey = null;
    return;
  }
  const spec = optimizerSpec(run.optimizer);
  const key = `${run.optimizer}|${state.lang}`;
  if (key !== lectureKey) {
    lectureKey = key;
    $("inside-lecture").innerHTML = (spec?.lecture ?? [])
      .map((line) => `<div class="line">${line}</div>`)
      .join("");
    $("inside-lecture").dataset.optimizer = run.optimizer;
  }
  at = updateAt(run, at);
  const values = updateValues(run, at);
  const panelEl = $("inside-terms");
  panelEl.dataset.optimizer = run.optimizer;
  if (!values) {
    $("inside-update").textContent = run.complete ? t("inside.end") : t("inside.waiting");
    panelEl.dataset.update = "";
    panelEl.dataset.key = "";
    panelEl.innerHTML = "";
    renderLegend($("arrow-legend"), shown, at, []);
    return;
  }
  $("inside-update").textContent = t("inside.update", {
    t: at,
    next: at + 1,
    step: values.t,
    sub: subscript(at),
    subNext: subscript(at + 1),
  });
  panelEl.dataset.update = String(at);
  const terms = spec?.terms ?? {};
  const shownTerms = values.terms.filter((k) => terms[k]);
  const termsKey = `${run.optimizer}|${shownTerms.join(",")}`;
  if (panelEl.dataset.key !== termsKey) {
    // New terms (another optimizer, the first update's b ← g): build them; else only
    // their numbers change.
    panelEl.dataset.key = termsKey;
    panelEl.innerHTML = shownTerms
      .map((k) => `<div class="term" data-term="${k}">${fillTerm(terms[k], values)}</div>`)
      .join("");
  }
  setSlots(panelEl, values);
  renderLegend($("arrow-legend"), shown, at, drawn);
}

/** A gradient-free method from inside: its update rule as the lecture notes write it, and
 * plainly that it has no gradient, momentum or step buffers (its samples are on the plot). */
function renderFree(name) {
  const title = optimizerTitle(name);
  $("inside-title").textContent = t("inside.title", { name: title });
  $("inside-update").textContent = t("inside.gradientFree", { name: title });
  $("arrow-legend").innerHTML = "";
  const terms = $("inside-terms");
  terms.innerHTML = "";
  terms.dataset.key = "";
  terms.dataset.update = "";
  terms.dataset.optimizer = name;
  const key = `${name}|${state.lang}`;
  if (key !== lectureKey) {
    lectureKey = key;
    $("inside-lecture").innerHTML = (optimizerSpec(name)?.lecture ?? [])
      .map((line) => `<div class="line">${line}</div>`)
      .join("");
    $("inside-lecture").dataset.optimizer = name;
  }
}

// ------------------------------------------------------------------ effective learning rate
export class EffView extends StepChart {
  constructor(el) {
    super(el, "eff-cursor");
    this.shown = false;
    this.key = null;
    this.runs = [];
  }

  /** Per-axis effective learning rate of the adaptive runs shown from inside, log axis. */
  async render({ runs, steps, at, presentation }) {
    const shown = inspectedRuns(runs).filter((r) => ADAPTIVE.has(r.optimizer));
    const series = shown.map((run) => ({ run, eff: effectiveLr(run) })).filter((s) => s.eff);
    const show = series.length > 0;
    this.el.hidden = !show;
    if (!show) {
      if (this.shown) Plotly.purge(this.chart);
      this.shown = false;
      this.key = null;
      return;
    }
    // The runs themselves (a slider move brings a new run of the same length), their
    // progress while streaming, and the look.
    const key = JSON.stringify([series.map((s) => s.eff.n), steps, presentation, state.lang]);
    const same =
      this.shown &&
      key === this.key &&
      series.length === this.runs.length &&
      series.every((s, i) => s.run === this.runs[i]);
    this.runs = series.map((s) => s.run);
    if (same) {
      this.moveCursor(at);
      return;
    }
    this.shown = true;
    this.key = key;
    const th = theme(presentation);
    const traces = series.flatMap(({ run, eff }) =>
      ["x", "y"].map((axis) => ({
        type: "scatter",
        mode: "lines",
        y: eff[axis].subarray(0, eff.n),
        x0: 0,
        dx: 1,
        name: `${run.title} ${axis}`,
        meta: { optimizer: run.optimizer, axis },
        line: { color: run.color, width: th.line * 0.8, dash: axis === "x" ? "solid" : "dot" },
        hovertemplate: `<b>${run.title}</b> ${axis}: %{y:.4g}<extra></extra>`,
      })),
    );
    const layout = {
      margin: stepChartMargin(th),
      ...stepChartFrame(th, t("eff.title"), steps, t),
      showlegend: true,
      legend: {
        orientation: "h",
        x: 1,
        xanchor: "right",
        y: 1.02,
        yanchor: "bottom",
        font: { size: th.font - 2 },
        bgcolor: "rgba(0,0,0,0)",
      },
      yaxis: {
        type: "log",
        exponentformat: "power",
        gridcolor: th.grid,
        zeroline: false,
        ...ticksOf(series),
      },
      hovermode: "x",
    };
    await this.draw(traces, layout, steps, at);
  }
}

/** Labels for the log axis: powers of ten, or 1-2-5 steps on a narrow range. */
function ticksOf(series) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const { eff } of series) {
    for (const axis of [eff.x, eff.y]) {
      for (let i = 0; i < eff.n; i += 1) {
        const v = axis[i];
        if (v > 0 && v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  return lo < hi ? logAxisTicks(lo, hi) : {};
}

// ------------------------------------------------------------------ wiring
/** Toggle `name` in the runs shown from inside. */
export function toggleInspect(name) {
  const on = !state.inspect.includes(name);
  const inspect = on ? [...state.inspect, name] : state.inspect.filter((n) => n !== name);
  focus = on ? name : focus;
  update({ inspect });
}

export function bindInside(options) {
  view = options;
  $("inside-step").addEventListener("click", () => stepOnce());
  $("inside-close").addEventListener("click", () => update({ inspect: [] }));
  $("inside-tabs").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-optimizer]");
    if (!button) return;
    focus = button.dataset.optimizer;
    options.redraw();
  });
}
