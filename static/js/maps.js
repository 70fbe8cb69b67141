// The Maps stage (issue 13): instead of one race, maps of many runs — the learning-rate
// sweep, the (lr, momentum) heatmap, basins of attraction and the fair race ("tune"). The
// toolbar's Race/Maps switch sets state.stage (URL `stage=maps`). This module lays out the
// panels, mounts them (each `new Panel(root, ctx)`; the contract is in the file header of
// maps_sweep.js and in the team's page-interface notes), and calls `panel.update(changed)`
// when the scene changes while the panel is on screen — a panel scrolled out of view or a
// hidden stage is brought up to date when it comes back, so a slider drag pays only for the
// maps in view — and `panel.resize()` when its box changes size.

import { getJSON, postJSON } from "./api.js";
import { hooks } from "./hooks.js";
import { applyTranslations, has, lang, t } from "./i18n.js";
import { HeatmapPanel } from "./maps_heatmap.js";
import { maxSteps } from "./maps_panel.js";
import { SweepPanel } from "./maps_sweep.js";
import { isPlaying, play } from "./playback.js";
import { loadPlotly } from "./render.js";
import {
  colors,
  getCatalog,
  gradientFree,
  landscapeMeta,
  optimizerSpec,
  optimizerTitle,
  state,
  subscribe,
  trajectoryRequest,
  update,
} from "./state.js";

const $ = (id) => document.getElementById(id);

// Basins and tune are page-B's modules, loaded when the stage first shows (a module that
// fails to load leaves its panel out rather than the whole page).
const PANELS = [
  { id: "sweep", title: "maps.sweep.title", load: async () => SweepPanel },
  { id: "heatmap", title: "maps.heatmap.title", load: async () => HeatmapPanel },
  // Basins and tune draw several charts side by side: a row of their own on a wide stage.
  {
    id: "basins",
    wide: true,
    title: "maps.basins.title",
    load: async () => (await import("./maps_basins.js")).BasinsPanel,
  },
  {
    id: "tune",
    wide: true,
    title: "maps.tune.title",
    load: async () => (await import("./maps_tune.js")).TunePanel,
  },
];

// State keys every panel hears about (the scene and how it is shown), and the keys only
// one panel owns.
const SCENE_KEYS = new Set([
  "landscape",
  "expr", // a typed function's text and bounds (typed.js)
  "bounds",
  "start",
  "steps",
  "noise",
  "seed",
  "schedule",
  "optimizers",
  "params",
  "lang",
  "presentation",
]);
const OWN_KEYS = { heatmap: new Set(["heatmap", "heatmapColor"]) };

// Two columns of panels from this width of the stage (a 1920 screen, a presentation at
// 1280; the wide panels then take a row of their own); one below it, each panel then a
// screen's height and the stage scrolling.
const TWO_COLUMNS = 1100;
const MIN_ROW = 380; // a panel is never shorter than this (px)
const PAD = 8;

const mounted = new Map(); // id → {panel, section, body, pending: Set|null, onScreen}
let built = false;

/** The scene's common request fields plus each run's look: what every panel starts from.
 * Its steps stay within the maps' limit (/api/settings maps.steps): a longer race is
 * mapped at that many steps, and the panels say so. */
function sceneRequest() {
  const request = mappedRequest();
  request.steps = Math.min(request.steps, maxSteps());
  const palette = colors();
  request.runs = request.runs.map((run, i) => {
    const spec = optimizerSpec(run.optimizer);
    return {
      ...run,
      color: palette.optimizers?.[run.optimizer] ?? palette.palette[i % palette.palette.length],
      dash: "solid",
      label: spec?.title || run.optimizer,
    };
  });
  return request;
}

/** The scene's request without its gradient-free runs: the maps take gradient methods
 * only (the server refuses the others with a 422); the stage's note names them instead. */
function mappedRequest() {
  const request = trajectoryRequest(state, true); // the Maps compute full gradients
  request.runs = request.runs.filter((run) => !gradientFree(run.optimizer));
  return request;
}

/** The note over the panels while gradient-free methods race: they are not mapped. It sits
 * above the panels' scrolling grid (its sibling in the stage), so it stays in view. */
function noteGradientFree() {
  const root = $("maps");
  let note = document.getElementById("maps-note");
  const left = state.optimizers.filter(gradientFree);
  if (!left.length || state.stage !== "maps") {
    if (note) note.hidden = true;
    return;
  }
  if (!note) {
    note = document.createElement("p");
    note.id = "maps-note";
    note.className = "maps-note";
    note.dataset.testid = "maps-gradient-free";
    root.before(note);
  }
  note.hidden = false;
  note.dataset.optimizers = left.join(",");
  const names = left.map(optimizerTitle).join(lang() === "ja" ? "・" : ", ");
  note.textContent = t("maps.gradientFree", { names });
}

/** Set hyperparameters ({optimizer: {name: value}}), enable those optimizers, show the race. */
function setManyParams(byOptimizer) {
  const params = { ...state.params };
  for (const [name, values] of Object.entries(byOptimizer)) {
    params[name] = { ...params[name], ...values };
  }
  const wanted = new Set([...state.optimizers, ...Object.keys(byOptimizer)]);
  const optimizers = getCatalog()
    .optimizers.map((o) => o.name)
    .filter((n) => wanted.has(n));
  update({ params, optimizers, t: null, stage: "race" });
}

/** What every panel gets: words, requests, the scene, and the ways back to the race. */
export const ctx = {
  t,
  lang,
  post: (path, body) => postJSON(path, body),
  get: (path) => getJSON(path),
  request: sceneRequest,
  apiRuns: () => mappedRequest().runs,
  landscape: () => landscapeMeta(),
  optimizer: (name) => optimizerSpec(name),
  optimizers: () => getCatalog().optimizers.filter((o) => !gradientFree(o.name)),
  state: () => state,
  setState: (patch) => update(patch),
  setStart: (xy) => update({ start: [Number(xy[0]), Number(xy[1])], t: null, stage: "race" }),
  setParams: (optimizer, values) => setManyParams({ [optimizer]: values }),
  setManyParams,
  showRace: () => update({ stage: "race" }),
  get colors() {
    return colors();
  },
  presentation: () => state.presentation,
};

// ------------------------------------------------------------------ building the stage

function panelSection(spec) {
  const section = document.createElement("section");
  section.className = spec.wide ? "maps-panel wide" : "maps-panel";
  section.dataset.panel = spec.id;
  section.dataset.testid = `maps-${spec.id}`;
  const head = document.createElement("h2");
  head.className = "maps-panel-title";
  head.dataset.i18n = spec.title;
  head.textContent = t(spec.title);
  const body = document.createElement("div");
  body.className = "maps-body";
  section.append(head, body);
  return { section, body };
}

function navChip(spec, section) {
  const chip = document.createElement("button");
  chip.type = "button";
  chip.className = "chip";
  chip.dataset.testid = `maps-nav-${spec.id}`;
  // the panel's short name where it has one (the nav is in the toolbar)
  const key = has(`${spec.title}Short`) ? `${spec.title}Short` : spec.title;
  chip.dataset.i18n = key;
  chip.textContent = t(key);
  chip.addEventListener("click", () => {
    update({ mapsPanel: spec.id }); // the link remembers it
    section.scrollIntoView({ block: "start" }); // and again if it already did
  });
  return chip;
}

async function build() {
  built = true;
  const root = $("maps");
  const nav = $("maps-nav");
  const seen = new IntersectionObserver(onScreen, { root, threshold: 0.05 });
  const resized = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const item = [...mounted.values()].find((m) => m.body === entry.target);
      if (item?.panel && entry.contentRect.width > 0) item.resizeNeeded = true;
    }
    requestAnimationFrame(resizePanels);
  });
  const slots = PANELS.map((spec) => {
    const { section, body } = panelSection(spec);
    root.append(section);
    const chip = navChip(spec, section);
    nav.append(chip);
    return { spec, section, body, chip };
  });
  await loadPlotly();
  await Promise.all(
    slots.map(async ({ spec, section, body, chip }) => {
      let Panel;
      try {
        Panel = await spec.load();
      } catch (err) {
        console.warn(`maps: ${spec.id} panel not available`, err); // eslint-disable-line no-console
        section.remove();
        chip.remove();
        return;
      }
      const item = { section, body, panel: null, pending: "all", onScreen: false };
      mounted.set(spec.id, item);
      try {
        item.panel = new Panel(body, ctx);
      } catch (err) {
        console.warn(`maps: ${spec.id} panel failed to start`, err); // eslint-disable-line no-console
        return;
      }
      hooks.maps.panels[spec.id] = item.panel;
      seen.observe(section);
      resized.observe(body);
    }),
  );
  layoutMaps();
  scrollToPanel();
  new ResizeObserver(layoutMaps).observe(root);
  new ResizeObserver(fitNav).observe(nav.parentElement);
  fitNav();
  flushSoon();
}

/** The panel the state names (a link's `panel=`, a lesson's, the nav's last) in view. */
function scrollToPanel() {
  const section = state.mapsPanel && mounted.get(state.mapsPanel)?.section;
  if (section && state.stage === "maps") section.scrollIntoView({ block: "start" });
}

function onScreen(entries) {
  for (const entry of entries) {
    const item = [...mounted.values()].find((m) => m.section === entry.target);
    if (item) item.onScreen = entry.isIntersecting;
  }
  flushSoon();
}

/** Columns and row height for the stage's size (app.css reads --maps-cols/--maps-row-h). */
function layoutMaps() {
  const root = $("maps");
  if (root.hidden || !root.clientWidth) return;
  const cols = root.clientWidth >= TWO_COLUMNS ? 2 : 1;
  const rowH = Math.max(MIN_ROW, root.clientHeight - 2 * PAD);
  root.style.setProperty("--maps-cols", String(cols));
  root.style.setProperty("--maps-row-h", `${Math.floor(rowH)}px`);
  root.dataset.cols = String(cols);
}

/** The nav leaves a toolbar it would overflow (the presentation button must stay). */
function fitNav() {
  const nav = $("maps-nav");
  const toolbar = nav.parentElement;
  nav.classList.remove("tight");
  if (nav.hidden) return;
  if (toolbar.scrollWidth > toolbar.clientWidth + 1) nav.classList.add("tight");
}

function resizePanels() {
  for (const item of mounted.values()) {
    if (!item.resizeNeeded || !item.panel) continue;
    item.resizeNeeded = false;
    try {
      item.panel.resize();
    } catch (err) {
      console.warn("maps: resize failed", err); // eslint-disable-line no-console
    }
  }
}

// ------------------------------------------------------------------ updates

let flushQueued = false;

function flushSoon() {
  if (flushQueued) return;
  flushQueued = true;
  requestAnimationFrame(flush);
}

/** Bring every panel on screen up to date with what changed since its last update. */
function flush() {
  flushQueued = false;
  if (state.stage !== "maps") return;
  for (const item of mounted.values()) {
    if (!item.panel || !item.onScreen || item.pending === null) continue;
    const changed = item.pending === "all" ? null : item.pending;
    item.pending = null;
    try {
      item.panel.update(changed);
    } catch (err) {
      console.warn("maps: update failed", err); // eslint-disable-line no-console
    }
  }
}

function note(changed) {
  for (const [id, item] of mounted) {
    const own = OWN_KEYS[id];
    const keys = [...changed].filter((k) => SCENE_KEYS.has(k) || own?.has(k));
    if (!keys.length || item.pending === "all") continue;
    item.pending ??= new Set();
    for (const k of keys) item.pending.add(k);
  }
}

function showStage() {
  const maps = state.stage === "maps";
  $("stage").dataset.stage = state.stage;
  $("maps").hidden = !maps;
  $("maps-nav").hidden = !maps;
  $("stage-race").setAttribute("aria-pressed", String(!maps));
  $("stage-maps").setAttribute("aria-pressed", String(maps));
  noteGradientFree();
  if (!maps) return;
  if (isPlaying()) play(false); // the race is out of view; its animation would only cost
  if (!built) {
    build();
    return;
  }
  fitNav();
  layoutMaps();
  scrollToPanel();
  for (const item of mounted.values()) item.resizeNeeded = true;
  requestAnimationFrame(resizePanels);
  flushSoon();
}

/** Wire the switch and follow the state; call once, after the controls are built. */
export function bindMaps() {
  hooks.maps = {
    shown: () => state.stage === "maps" && !$("maps").hidden,
    panels: {},
  };
  $("stage-race").addEventListener("click", () => update({ stage: "race" }));
  $("stage-maps").addEventListener("click", () => update({ stage: "maps" }));
  subscribe((changed) => {
    if (changed.has("lang")) {
      // Panel titles and the nav (static labels inside panels are the panels' own, but a
      // data-i18n attribute there is translated too, before the panels' update).
      applyTranslations($("maps"));
      applyTranslations($("maps-nav"));
      queueMicrotask(fitNav);
    }
    note(changed);
    if (changed.has("optimizers") || changed.has("lang")) noteGradientFree();
    if (changed.has("stage")) showStage();
    else if (changed.has("mapsPanel")) scrollToPanel();
    else if (changed.has("presentation")) {
      queueMicrotask(() => {
        layoutMaps();
        for (const item of mounted.values()) item.resizeNeeded = true;
        requestAnimationFrame(resizePanels);
      });
    }
    flushSoon();
  });
  // After the first data requests are out (main.js), as render.js loads Plotly for them.
  setTimeout(showStage, 0);
}
