// Wires state, controls, the live channel and the views together; owns playback.
// window.__gradscape exposes read-only hooks for the browser tests and the latency
// benchmark (e.g. redrawAfter(n): resolves once a run newer than n is fully drawn).

import { LiveRunner, loadCatalog, loadGrid } from "./api.js";
import { applyTranslations, loadLanguages, setLang, t, has } from "./i18n.js";
import { buildControls, syncControls } from "./controls.js";
import { bindExports } from "./export.js";
import { LossView, MainView, renderStatus } from "./plot.js";
import {
  RUN_KEYS, colors, fromQuery, getCatalog, landscapeMeta, optimizerSpec, setCatalog, state, subscribe, toQuery,
  trajectoryRequest, update,
} from "./state.js";

const $ = (id) => document.getElementById(id);
const GRID_RESOLUTION = 200;
// Significant digits of grid values: no plot shows more, and the grid compresses to half.
const GRID_DIGITS = 7;

const grids = new Map(); // landscape -> grid reply
let data = { id: null, seq: 0, landscape: null, steps: 0, runs: [], complete: false };
let runner = null;
let mainView = null;
let lossView = null;
let playing = false;

// ------------------------------------------------------------------ instrumentation
const waiters = [];
const hooks = {
  state,
  redraws: 0,
  lastRedraw: null, // {id, seq, at (performance.now()), complete}
  runCounter: () => (runner ? runner.counter : 0),
  currentId: () => (runner ? runner.currentId : null),
  /** Resolves with the redraw record once a run sent after counter `n` is fully drawn. */
  redrawAfter(n) {
    const last = hooks.lastRedraw;
    if (last && last.complete && last.seq > n) return Promise.resolve(last);
    return new Promise((resolve) => waiters.push({ n, resolve }));
  },
  runs: () =>
    data.runs.map((r) => ({
      optimizer: r.optimizer,
      color: r.color,
      params: r.params,
      n: r.n,
      first: r.n ? [r.xs[0], r.ys[0]] : null,
      last: r.n ? [r.xs[r.n - 1], r.ys[r.n - 1]] : null,
      diverged_at: r.diverged_at,
      converged_at: r.converged_at,
      converged_to: r.converged_to,
      final_loss: r.final_loss,
    })),
  cursor: () => cursor(),
  playing: () => playing,
  query: () => toQuery(),
};
window.__gradscape = hooks;

function redrawn(complete) {
  hooks.redraws += 1;
  hooks.lastRedraw = {
    id: data.id, seq: data.seq, at: performance.now(), complete,
    sentAt: data.sentAt, doneAt: data.doneAt,
  };
  if (!complete) return;
  for (let i = waiters.length - 1; i >= 0; i -= 1) {
    if (data.seq > waiters[i].n) {
      waiters[i].resolve(hooks.lastRedraw);
      waiters.splice(i, 1);
    }
  }
}

// ------------------------------------------------------------------ messages
function showMessage(text) {
  const el = $("plot-message");
  el.hidden = !text;
  el.textContent = text || "";
}

// ------------------------------------------------------------------ run data
function fStar(landscape) {
  const values = landscapeMeta(landscape).minima.filter((m) => m.kind === "global").map((m) => m.value);
  return values.length ? Math.min(...values) : null;
}

function newRun(info, steps, fstar) {
  const spec = optimizerSpec(info.optimizer);
  const size = steps + 1;
  return {
    optimizer: info.optimizer,
    title: spec ? spec.title || spec.name : info.optimizer,
    color: info.color || (spec && spec.color) || colors().palette[0],
    params: info.params || {},
    xs: new Float64Array(size),
    ys: new Float64Array(size),
    losses: new Float64Array(size),
    gap: new Float64Array(size),
    fstar,
    n: 0,
    complete: false,
    diverged_at: null,
    converged_at: null,
    converged_to: null,
    final_loss: null,
  };
}

// A short run finishes before anyone could see it grow; drawing every chunk would only
// compete with the server for the CPU. Long runs (thousands of steps) draw as they stream.
const PROGRESSIVE_MS = 150;
let progressiveTimer = null;

function scheduleProgressive() {
  if (progressiveTimer) return;
  progressiveTimer = setTimeout(() => {
    progressiveTimer = null;
    if (!data.complete) scheduleRender("data");
  }, PROGRESSIVE_MS);
}

// ------------------------------------------------------------------ running
// Runs are cached by everything that determines them (scene + optimizer + its params).
// The core runs each optimizer on its own noise stream from the same seed, so a run
// computed alone is bit-identical to the same run computed with others: a slider move
// asks the server for one optimizer, not all of them.
const RUN_CACHE_LIMIT = 64;
const cache = new Map(); // run key -> complete run
const plans = new Map(); // message id -> what that run request was for

const seqOf = (id) => Number(String(id).slice(1));

function runKey(s, name) {
  const { schedule, start, steps, noise, seed, landscape } = trajectoryRequest(s);
  return JSON.stringify([landscape, start, steps, noise, seed, schedule, name, s.params[name]]);
}

function remember(key, run) {
  cache.delete(key);
  cache.set(key, run);
  while (cache.size > RUN_CACHE_LIMIT) cache.delete(cache.keys().next().value);
}

function assemble(id, plan, fresh) {
  const fstar = fStar(plan.landscape);
  return {
    id,
    seq: seqOf(id),
    landscape: plan.landscape,
    steps: plan.steps,
    runs: plan.wanted.map((w) => plan.cached.get(w.key) || fresh[plan.missing.indexOf(w.key)]),
    fresh,
    plan,
    complete: fresh.length === 0,
    logScale: fstar !== null,
    sentAt: plan.sentAt,
  };
}

const handlers = {
  meta(msg) {
    const plan = plans.get(msg.id);
    plans.clear();
    if (!plan) return;
    const fstar = fStar(plan.landscape);
    const fresh = msg.runs.map((r) => newRun(r, plan.steps, fstar));
    data = assemble(msg.id, plan, fresh);
    showMessage(null);
    // No redraw yet: the previous paths stay until this run's points arrive.
  },
  chunk(msg) {
    const run = data.fresh && data.fresh[msg.run];
    if (!run) return;
    const { points, losses, offset } = msg;
    const limit = run.xs.length;
    for (let k = 0; k < points.length && offset + k < limit; k += 1) {
      const i = offset + k;
      run.xs[i] = points[k][0];
      run.ys[i] = points[k][1];
      const loss = losses[k];
      run.losses[i] = loss;
      run.gap[i] = run.fstar === null ? loss : Math.max(loss - run.fstar, 1e-16);
    }
    run.n = Math.max(run.n, Math.min(limit, offset + points.length));
    scheduleProgressive();
  },
  done(msg) {
    msg.runs.forEach((info, i) => {
      const run = data.fresh && data.fresh[i];
      if (!run) return;
      run.complete = true;
      run.diverged_at = info.diverged_at ?? null;
      run.converged_at = info.converged_at ?? null;
      run.converged_to = info.converged_to ?? null;
      run.final_loss = info.final_loss ?? null;
      remember(data.plan.missing[i], run);
    });
    data.complete = true;
    data.doneAt = performance.now();
    clearTimeout(progressiveTimer);
    progressiveTimer = null;
    scheduleRender("data");
  },
  error(msg) {
    showMessage(t("error.server", { detail: msg.detail }));
    plans.clear();
    const seq = seqOf(msg.id ?? runner.currentId);
    if (data.landscape !== state.landscape) {
      // Nothing drawn for this landscape yet (a link whose scene the server refused, say
      // a start outside the bounds): show its bare contour, where a click sets a start.
      data = { id: msg.id, seq, landscape: state.landscape, steps: state.steps, runs: [],
               fresh: [], complete: true, errored: true };
      scheduleRender("data");
      return;
    }
    // Keep the last good paths on screen; tell waiting hooks this run is over.
    data = { ...data, seq, errored: true };
    redrawn(true);
  },
};

let runQueued = false;

function scheduleRun() {
  if (runQueued) return;
  runQueued = true;
  // Changes made in one task (a preset sets ten keys) send one run; a slider drag fires
  // at most one input event per frame, and the server cancels all but the latest run.
  queueMicrotask(() => {
    runQueued = false;
    if (!state.optimizers.length) {
      const id = runner.skip();
      data = { id, seq: seqOf(id), landscape: state.landscape, steps: state.steps,
               runs: [], fresh: [], complete: true };
      showMessage(t("error.noOptimizer"));
      scheduleRender("data");
      return;
    }
    const wanted = state.optimizers.map((name) => ({ name, key: runKey(state, name) }));
    const cached = new Map(wanted.filter((w) => cache.has(w.key)).map((w) => [w.key, cache.get(w.key)]));
    const missing = wanted.filter((w) => !cached.has(w.key));
    const plan = {
      landscape: state.landscape, steps: state.steps, wanted, cached,
      missing: missing.map((w) => w.key), sentAt: performance.now(),
    };
    if (!missing.length) {
      // Everything is known (an optimizer toggled off, a value set back): no round trip,
      // but a fresh id, so messages of a run still in flight are dropped as stale.
      plans.clear();
      data = assemble(runner.skip(), plan, []);
      data.doneAt = performance.now();
      showMessage(null);
      scheduleRender("data");
      return;
    }
    const request = trajectoryRequest();
    request.runs = request.runs.filter((r) => missing.some((w) => w.name === r.optimizer));
    plans.set(runner.run(request), plan);
  });
}

async function ensureGrid(name) {
  if (grids.has(name)) return;
  try {
    grids.set(name, await loadGrid(name, GRID_RESOLUTION, GRID_DIGITS));
    scheduleRender("data");
  } catch (err) {
    showMessage(t("error.server", { detail: err.message }));
  }
}

// ------------------------------------------------------------------ rendering
function cursor() {
  const steps = data.steps || state.steps;
  return state.t === null ? steps : Math.min(state.t, steps);
}

let renderKind = null;
let rendering = false;

function scheduleRender(kind) {
  if (renderKind !== "data") renderKind = kind;
  if (rendering || renderKind === null) return;
  rendering = true;
  // Plotly draws into the DOM synchronously; the browser paints it at the next frame.
  queueMicrotask(renderLoop);
}

let resizeNeeded = false;

// Plotly.js is 4.8 MB of script that takes about a second to evaluate. It downloads from
// the start (a preload in the page) but runs only once the first data requests are out,
// so the grid and the first run arrive while it evaluates instead of after it.
// Without Plotly nothing can be drawn: a failed load says so and leaves renders waiting.
let plotly = null;
function loadPlotly() {
  plotly ??= new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = $("plotly-js").href;
    script.onload = resolve;
    script.onerror = () => showMessage(t("error.server", { detail: `could not load ${script.src}` }));
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
        const plots = [...document.querySelectorAll(".js-plotly-plot")].filter((gd) => gd.offsetParent !== null);
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
  const grid = grids.get(data.landscape || state.landscape);
  if (!grid || !data.landscape || data.landscape !== state.landscape) {
    if (kind === "data") redrawn(false);
    return;
  }
  const c = cursor();
  const meta = landscapeMeta(data.landscape);
  const scene = {
    grid, gridKey: data.landscape, meta, start: state.start, runs: data.runs, cursor: c,
    mode: state.mode, view: state.view, presentation: state.presentation,
  };
  const jobs = [mainView.render(scene)];
  if (kind === "data") {
    jobs.push(lossView.render({ runs: data.runs, steps: data.steps, cursor: c, logScale: data.logScale,
                                presentation: state.presentation }));
  } else {
    lossView.moveCursor(c);
  }
  renderStatus($("status"), { runs: data.runs, cursor: c, steps: data.steps, t, complete: data.complete });
  updatePlayback();
  await Promise.all(jobs);
  if (kind === "data") redrawn(data.complete);
}

// ------------------------------------------------------------------ playback
let lastFrame = 0;
let carry = 0;

function setCursor(c) {
  const steps = data.steps || state.steps;
  const clamped = Math.max(0, Math.min(steps, Math.round(c)));
  update({ t: clamped >= steps ? null : clamped });
}

function play(on) {
  if (on === playing) return;
  playing = on;
  if (playing) {
    if (cursor() >= (data.steps || state.steps)) setCursor(0);
    lastFrame = performance.now();
    carry = 0;
    requestAnimationFrame(tick);
  } else {
    scheduleURL();
  }
  updatePlayback();
}

function tick(now) {
  if (!playing) return;
  const steps = data.steps || state.steps;
  // 1× plays any run in about five seconds (at least 8 steps a second).
  const rate = Math.max(steps / 5, 8) * state.speed;
  carry += ((now - lastFrame) / 1000) * rate;
  lastFrame = now;
  const advance = Math.floor(carry);
  if (advance > 0) {
    carry -= advance;
    let next = cursor() + advance;
    if (next >= steps) {
      if (state.loop && cursor() >= steps) next = 0;
      else if (!state.loop) {
        setCursor(steps);
        play(false);
        return;
      } else next = steps;
    }
    setCursor(next);
  }
  requestAnimationFrame(tick);
}

function updatePlayback() {
  const steps = data.steps || state.steps;
  const c = cursor();
  const scrub = $("scrub");
  scrub.max = String(steps);
  if (document.activeElement !== scrub || !playing) scrub.value = String(c);
  $("step-label").textContent = t("play.stepOf", { step: c, steps });
  const button = $("play");
  button.querySelector(".icon").textContent = playing ? "❚❚" : "▶";
  button.querySelector(".text").textContent = playing ? t("play.pause") : t("play.play");
  button.setAttribute("aria-pressed", playing ? "true" : "false");
}

function restart() {
  setCursor(0);
  play(true);
}

function togglePresentation(on) {
  update({ presentation: on });
  try {
    if (on && document.fullscreenEnabled && !document.fullscreenElement) {
      document.documentElement.requestFullscreen().catch(() => {});
    } else if (!on && document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
    }
  } catch {
    // Fullscreen is a nicety; presentation mode works without it.
  }
}

function bindPlayback() {
  $("play").addEventListener("click", () => play(!playing));
  $("step-forward").addEventListener("click", () => {
    play(false);
    setCursor(cursor() + 1);
  });
  $("step-back").addEventListener("click", () => {
    play(false);
    setCursor(cursor() - 1);
  });
  $("scrub").addEventListener("input", (e) => {
    play(false);
    setCursor(Number(e.target.value));
  });
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = e.target.tagName;
    const toggle = tag === "BUTTON" || (tag === "INPUT" && e.target.type === "checkbox");
    // Text fields, number fields, sliders and selects keep their own keys.
    if (!toggle && (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA")) return;
    if (e.key === " " || e.code === "Space") {
      if (toggle) return; // a focused button or checkbox handles space itself
      e.preventDefault();
      play(!playing);
    } else if (e.key === "ArrowRight") {
      e.preventDefault();
      play(false);
      setCursor(cursor() + 1);
    } else if (e.key === "ArrowLeft") {
      e.preventDefault();
      play(false);
      setCursor(cursor() - 1);
    } else if (e.key === "r" || e.key === "R") {
      restart();
    } else if (e.key === "f" || e.key === "F") {
      togglePresentation(!state.presentation);
    } else if (e.key === "Escape" && state.presentation) {
      togglePresentation(false);
    }
  });
}

// ------------------------------------------------------------------ URL
let urlTimer = null;

function scheduleURL() {
  if (urlTimer) return;
  urlTimer = setTimeout(() => {
    urlTimer = null;
    if (playing) return; // written when playback stops; keeps history writes rare
    const url = `${location.pathname}?${toQuery()}`;
    if (url !== `${location.pathname}${location.search}`) history.replaceState(null, "", url);
    const share = $("share-url");
    if (share) share.value = location.href;
  }, 120);
}

// ------------------------------------------------------------------ state changes
function sceneTitle() {
  const preset = getCatalog().presets.find((p) => p.id === state.preset);
  if (preset) return preset.title[state.lang] || preset.title.en;
  const meta = landscapeMeta();
  return has(`landscape.${meta.name}`) ? t(`landscape.${meta.name}`) : meta.title;
}

function applyChrome() {
  document.body.classList.toggle("presentation", state.presentation);
  $("present").textContent = state.presentation ? t("present.exit") : t("present.enter");
  $("scene-title").textContent = sceneTitle();
  document.title = `Gradscape — ${sceneTitle()}`;
}

function onChange(changed) {
  const onlyCursor = changed.size === 1 && changed.has("t");
  if (changed.has("lang")) {
    setLang(state.lang);
    applyTranslations();
  }
  if (!onlyCursor) {
    syncControls(changed);
    applyChrome();
  }
  if ([...changed].some((k) => RUN_KEYS.has(k))) scheduleRun();
  if (changed.has("landscape")) ensureGrid(state.landscape);
  if (changed.has("lang") || changed.has("presentation") || changed.has("mode") || changed.has("view")) {
    scheduleRender("data");
  } else if (changed.has("start") || onlyCursor || changed.has("t")) {
    scheduleRender("cursor");
  }
  if (!onlyCursor || !playing) scheduleURL();
}

function observeResize() {
  const observer = new ResizeObserver(() => {
    resizeNeeded = true;
    scheduleRender("cursor");
  });
  observer.observe($("main-plot"));
  observer.observe($("loss-plot"));
}

async function init() {
  try {
    const [catalog] = await Promise.all([loadCatalog(), loadLanguages()]);
    setCatalog(catalog);
  } catch (err) {
    document.body.classList.remove("loading");
    showMessage(`Gradscape could not load its data from the server: ${err.message}`);
    return;
  }
  Object.assign(state, fromQuery(location.search));
  setLang(state.lang);
  applyTranslations();
  buildControls({ onPresentation: togglePresentation });
  syncControls(null);
  applyChrome();
  mainView = new MainView($("main-plot"), {
    onStart: (start) => update({ start: start.map((v) => Number(v.toPrecision(4))) }),
    t,
    colors: colors(),
  });
  lossView = new LossView($("loss-plot"), t);
  bindPlayback();
  bindExports(() => cursor());
  observeResize();
  subscribe(onChange);
  runner = new LiveRunner(handlers);
  ensureGrid(state.landscape);
  scheduleRun();
  loadPlotly();
  $("share-url").value = location.href;
  document.body.classList.remove("loading");
  hooks.ready = true;
}

init();
