// The entry point: loads the catalogues, reads the state from the URL, and wires the state
// to the controls, the runs, the views, playback, keys and the address bar. Each of those
// lives in its own module; this one only connects them.

import { loadCatalog } from "./api.js";
import { bindBatch, syncBatch } from "./batch.js";
import { buildControls, syncControls } from "./controls.js";
import { bindExports } from "./export.js";
import { hooks, redrawn } from "./hooks.js";
import { applyTranslations, has, loadLanguages, setLang, t } from "./i18n.js";
import { bindKeyboard } from "./keyboard.js";
import { bindMaps } from "./maps.js";
import { bindPlayback, cursor, isPlaying } from "./playback.js";
import { createViews, loadPlotly, scheduleRender, showMessage } from "./render.js";
import { ensureGrid, scheduleRun, startRuns } from "./runs.js";
import {
  fromQuery,
  getCatalog,
  landscapeMeta,
  RUN_KEYS,
  setCatalog,
  state,
  subscribe,
  update,
} from "./state.js";
import { addTypedEntry, bindTyped, typedReady } from "./typed.js";
import { scheduleURL } from "./url.js";

const $ = (id) => document.getElementById(id);

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

/** Every state change: controls, chrome, a new run, a redraw, the URL — as each needs. */
function onChange(changed) {
  const onlyCursor = changed.size === 1 && changed.has("t");
  if (changed.has("lang")) {
    setLang(state.lang);
    applyTranslations();
  }
  if (!onlyCursor) {
    syncControls(changed);
    syncBatch();
    applyChrome();
  }
  if ([...changed].some((k) => RUN_KEYS.has(k))) scheduleRun();
  if (changed.has("landscape") || changed.has("expr") || changed.has("bounds")) {
    ensureGrid(state.landscape);
  }
  if (
    changed.has("lang") ||
    changed.has("presentation") ||
    changed.has("mode") ||
    changed.has("view")
  ) {
    scheduleRender("data");
  } else if (changed.has("start") || onlyCursor || changed.has("t")) {
    scheduleRender("cursor");
  }
  if (!onlyCursor || !isPlaying()) scheduleURL();
}

async function init() {
  try {
    const [catalog] = await Promise.all([loadCatalog(), loadLanguages()]);
    addTypedEntry(catalog); // "Your function" in the picker
    setCatalog(catalog);
  } catch (err) {
    document.body.classList.remove("loading");
    showMessage(`Gradscape could not load its data from the server: ${err.message}`);
    return;
  }
  Object.assign(state, fromQuery(location.search));
  await typedReady(); // a link's typed function: its minima and start before anything draws
  setLang(state.lang);
  applyTranslations();
  buildControls({ onPresentation: togglePresentation });
  bindTyped();
  bindBatch();
  syncControls(null);
  syncBatch();
  applyChrome();
  createViews();
  bindPlayback({ paused: scheduleURL });
  bindKeyboard({ togglePresentation });
  bindExports(() => cursor());
  subscribe(onChange);
  bindMaps(); // the Race/Maps switch and the Maps stage (after onChange: controls sync first)
  startRuns({
    draw: () => scheduleRender("data"),
    message: showMessage,
    settled: () => redrawn(true),
  });
  ensureGrid(state.landscape);
  scheduleRun();
  loadPlotly();
  $("share-url").value = location.href;
  document.body.classList.remove("loading");
  hooks.ready = true;
}

init();
