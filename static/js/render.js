// The render loop: draws the current runs (runs.js) into the views (plot.js) at most once
// per task, loads Plotly.js, follows resizes, and shows messages over the plot.

import { effDrawn, redrawn } from "./hooks.js";
import { t } from "./i18n.js";
import { arrowSpec, bindInside, EffView, renderInside } from "./inside.js";
import { LrView } from "./lr_view.js";
import { cursor, updatePlayback } from "./playback.js";
import { LossView, MainView } from "./plot.js";
import { current, gridOf, loadWindowGrid } from "./runs.js";
import { colors, landscapeKey, landscapeMeta, state, update } from "./state.js";
import { renderStatus } from "./status.js";

const $ = (id) => document.getElementById(id);

let mainView = null;
let lossView = null;
let lrView = null;
let effView = null;

export function showMessage(text) {
  const el = $("plot-message");
  el.hidden = !text;
  el.textContent = text || "";
}

/** Build the main and loss views; a click on the plot sets the start point. */
export function createViews() {
  mainView = new MainView($("main-plot"), {
    onStart: (start) => update({ start: start.map((v) => Number(v.toPrecision(4))) }),
    t,
    colors: colors(),
    loadWindow: loadWindowGrid,
  });
  lossView = new LossView($("loss-plot"), t);
  lrView = new LrView($("lr-plot"), t);
  effView = new EffView($("eff-plot"));
  bindInside({ mainView, redraw: () => scheduleRender("data") });
  observeResize();
}

let renderKind = null;
let rendering = false;

/** Redraw soon: "data" redraws everything, "cursor" only what the playback cursor moves. */
export function scheduleRender(kind) {
  if (renderKind !== "data") renderKind = kind;
  if (rendering || renderKind === null) return;
  rendering = true;
  // Plotly draws into the DOM synchronously; the browser paints it at the next frame.
  queueMicrotask(renderLoop);
}

let resizeNeeded = false;

function observeResize() {
  const observer = new ResizeObserver(() => {
    resizeNeeded = true;
    scheduleRender("cursor");
  });
  observer.observe($("main-plot"));
  observer.observe($("loss-plot"));
  observer.observe($("lr-plot"));
  observer.observe($("eff-plot"));
}

// Plotly.js is 4.8 MB of script that takes about a second to evaluate. It downloads from
// the start (a preload in the page) but runs only once the first data requests are out,
// so the grid and the first run arrive while it evaluates instead of after it.
// Without Plotly nothing can be drawn: a failed load says so and leaves renders waiting.
let plotly = null;
export function loadPlotly() {
  plotly ??= new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = $("plotly-js").href;
    script.onload = resolve;
    script.onerror = () =>
      showMessage(t("error.server", { detail: `could not load ${script.src}` }));
    document.head.append(script);
  });
  return plotly;
}

async function renderLoop() {
  await loadPlotly();
  while (renderKind !== null) {
    const kind = renderKind;
    renderKind = null;
    try {
      if (resizeNeeded) {
        // Resizes run inside the render loop so they never interleave with a redraw.
        resizeNeeded = false;
        const plots = [...document.querySelectorAll(".js-plotly-plot")].filter(
          (gd) => gd.offsetParent !== null,
        );
        await Promise.all(plots.map((gd) => window.Plotly.Plots.resize(gd)));
      }
      await render(kind);
    } catch (err) {
      console.warn("render failed", err); // eslint-disable-line no-console
    }
  }
  rendering = false;
}

async function render(kind) {
  const data = current();
  const grid = gridOf(data.landscape || state.landscape);
  if (!grid || !data.landscape || data.landscape !== state.landscape) {
    if (kind === "data") redrawn(false);
    return;
  }
  const c = cursor();
  const meta = landscapeMeta(data.landscape);
  const scene = {
    grid,
    gridKey: landscapeKey(), // a typed function's text and bounds, not only "custom"
    meta,
    start: state.start,
    runs: data.runs,
    steps: data.steps,
    cursor: c,
    mode: state.mode,
    view: state.view,
    presentation: state.presentation,
    arrows: arrowSpec(data.runs, c, state.presentation),
  };
  // The panel's legend gives the arrows' drawn scales: it follows the main view's draw.
  const main = mainView.render(scene).then(() => {
    const drawn = [...document.querySelectorAll("#main-plot .layer-arrows")].flatMap(
      (canvas) => canvas.arrows ?? [],
    );
    renderInside({ runs: data.runs, at: c, drawn });
  });
  const jobs = [main];
  if (kind === "data") {
    jobs.push(
      lossView.render({
        runs: data.runs,
        steps: data.steps,
        cursor: c,
        logScale: data.logScale,
        presentation: state.presentation,
        grid,
      }),
      lrView.render({
        runs: data.runs,
        steps: data.steps,
        cursor: c,
        factors: data.lrFactors,
        presentation: state.presentation,
      }),
    );
  } else {
    lossView.moveCursor(c);
    lrView.moveCursor(c);
    effView.moveCursor(c);
  }
  renderStatus($("status"), {
    runs: data.runs,
    cursor: c,
    steps: data.steps,
    t,
    complete: data.complete,
  });
  updatePlayback();
  await Promise.all(jobs);
  if (kind === "data") {
    redrawn(current().complete);
    // The effective-learning-rate chart follows the paths, not before them: a slider move
    // shows its new paths first (hooks.effDrawn records when this chart caught up).
    await effView.render({
      runs: data.runs,
      steps: data.steps,
      at: c,
      presentation: state.presentation,
    });
    effDrawn(data.seq);
  }
}
