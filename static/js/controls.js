// Controls only change the state; `syncControls` writes the state back into them (after a
// preset, a URL, a key press). Optimizer cards and sliders are generated from
// /api/optimizers, schedule options from its "schedules".

import { has, t } from "./i18n.js";
import { toggleInspect } from "./inside.js";
import { bindLayout } from "./layout.js";
import { runKey } from "./legend.js";
import { bindShare, refreshShare, studentLink } from "./share.js";
import {
  controlVisible,
  defaultSchedule,
  freeExploration,
  getCatalog,
  gradientFree,
  landscapeMeta,
  optimizerSpec,
  optimizerTitle,
  SPEEDS,
  sceneOption,
  sceneState,
  setParam,
  state,
  toURL,
  update,
} from "./state.js";

const $ = (id) => document.getElementById(id);

export function fmtNumber(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-4 || a >= 1e6) return v.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(6)));
}

function parseNumber(text) {
  if (typeof text !== "string" || text.trim() === "") return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
}

// ------------------------------------------------------------------ slider mapping
// Three scales: log10 for values that span decades (lr, ε); −log10(1 − β) for decay rates
// that approach 1 (β₁, β₂, μ, α: max 0.9999), so 0.9, 0.99, 0.999, 0.9999 sit evenly; linear
// otherwise. The slider only proposes values; the numeric field and the state keep the
// exact value (a link's 0.9995 stays 0.9995).
const round3 = (v) => Number(v.toPrecision(3));

export function sliderScale(p) {
  if (p.log) {
    const hi = Math.log10(p.max);
    const lo = p.min > 0 ? Math.log10(p.min) : hi - 8;
    return {
      min: lo,
      max: hi,
      toValue: (s) => (p.min <= 0 && s <= lo + 1e-9 ? p.min : round3(10 ** s)),
      toSlider: (v) => (v <= 0 ? lo : Math.min(hi, Math.max(lo, Math.log10(v)))),
    };
  }
  if (!p.integer && p.min >= 0 && p.max < 1 && p.max >= 0.999) {
    const lo = -Math.log10(1 - p.min);
    const hi = -Math.log10(1 - p.max);
    const clamp = (v) => Math.min(p.max, Math.max(p.min, v));
    return {
      min: lo,
      max: hi,
      // 1 − β to three significant digits: 0.9, 0.99, 0.995, 0.9999 — never 0.98999.
      toValue: (s) => clamp(Number((1 - round3(10 ** -s)).toPrecision(12))),
      toSlider: (v) => Math.min(hi, Math.max(lo, -Math.log10(1 - clamp(v)))),
    };
  }
  return {
    min: p.min,
    max: p.max,
    toValue: (s) => (p.integer ? Math.round(Number(s)) : Number(Number(s).toPrecision(4))),
    toSlider: (v) => v,
  };
}

// A click on a slider's track steps the value toward the pointer by a small page (1/24 of
// the track: a quarter decade of lr) and, held, keeps stepping until it reaches the pointer,
// as a scrollbar does. The browser's own jump to the clicked spot moved lr by a decade on a
// short track. Dragging the thumb stays the browser's. Touch keeps the browser's behaviour.
const TRACK_PAGES = 24;

function thumbSize(slider) {
  const size = Number.parseFloat(getComputedStyle(slider).getPropertyValue("--thumb-size"));
  return Number.isFinite(size) ? size : 16;
}

function bindTrackClicks(slider) {
  slider.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || e.pointerType === "touch") return;
    const rect = slider.getBoundingClientRect();
    const thumb = thumbSize(slider);
    const span = Math.max(1, rect.width - thumb);
    const min = Number(slider.min);
    const max = Number(slider.max);
    const at = (x) =>
      min + Math.min(1, Math.max(0, (x - rect.left - thumb / 2) / span)) * (max - min);
    const thumbX = rect.left + thumb / 2 + ((Number(slider.value) - min) / (max - min)) * span;
    if (Math.abs(e.clientX - thumbX) <= thumb / 2 + 1) return; // on the thumb: a drag
    e.preventDefault(); // no jump, and no focus: the keys stay with playback
    let pointerX = e.clientX;
    let timer = null;
    const page = (max - min) / TRACK_PAGES;
    const stepOnce = () => {
      const current = Number(slider.value);
      const delta = at(pointerX) - current;
      if (Math.abs(delta) < 1e-9) return;
      slider.value = String(current + Math.sign(delta) * Math.min(Math.abs(delta), page));
      slider.dispatchEvent(new Event("input", { bubbles: true }));
    };
    const move = (ev) => {
      pointerX = ev.clientX;
    };
    const stop = () => {
      clearTimeout(timer);
      clearInterval(timer);
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", stop);
      window.removeEventListener("pointercancel", stop);
      window.removeEventListener("blur", stop);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", stop);
    window.addEventListener("pointercancel", stop);
    window.addEventListener("blur", stop);
    stepOnce();
    timer = setTimeout(() => {
      timer = setInterval(stepOnce, 60);
    }, 350);
  });
}

function paramLabel(name, optimizer = null) {
  // An optimizer's own symbol first (annealing's lr is its proposal step σ); a name
  // without a label yet reads as words ("momentum decay"), which can wrap.
  const key = [`param.${optimizer}.${name}`, `param.${name}`].find(has);
  return key ? t(key) : name.replaceAll("_", " ");
}

function paramHelp(param, optimizer) {
  // an optimizer's own meaning first: AdamW's λ is decoupled, Adam's is L2
  const key = [`help.${optimizer}.${param.name}`, `help.${param.name}`].find(has);
  return key ? t(key) : param.help || "";
}

function showError(message) {
  const el = $("run-error");
  el.hidden = !message;
  el.textContent = message || "";
}

// ------------------------------------------------------------------ optimizer cards
// The picker: one collapsible group per optimizer family (the server's `group`: classic,
// adaptive, large-batch), each a <details> so Tab, Enter and Space open and close it, and
// above them "your race": a chip per racing optimizer in its style, a click away from its
// card. Any optimizers up to the run limit (/api/settings scene.runs.max) race; at the
// limit the other toggles wait until one is unticked.

const runLimit = () => sceneOption("runs")?.max ?? Number.POSITIVE_INFINITY;

function groupName(group) {
  return has(`optimizers.group.${group}`) ? t(`optimizers.group.${group}`) : group;
}

function optimizerGroups() {
  const catalog = getCatalog();
  const named = catalog.groups ?? [];
  const groups = [...named];
  for (const o of catalog.optimizers)
    if (!groups.includes(o.group ?? "")) groups.push(o.group ?? "");
  return groups
    .map((group) => ({
      group,
      members: catalog.optimizers.filter((o) => (o.group ?? "") === group),
    }))
    .filter((g) => g.members.length);
}

// Optimizers racing at the last sync: a group opens when one of its members joins the race
// (a preset, a link, a chip), and is otherwise left as the user put it.
let racingBefore = null;

function buildOptimizerCards() {
  const list = $("optimizer-list");
  list.replaceChildren();
  racingBefore = null;
  for (const { group, members } of optimizerGroups()) {
    const box = document.createElement("details");
    box.className = "opt-group";
    box.dataset.group = group;
    box.dataset.testid = `optimizer-group-${group}`;
    box.dataset.ctlGroup = `group:${group}`;
    const summary = document.createElement("summary");
    summary.className = "opt-group-head";
    summary.innerHTML =
      '<h3 class="opt-group-name"></h3><span class="opt-group-count" data-testid="optimizer-group-count"></span>';
    const cards = document.createElement("div");
    cards.className = "opt-group-cards";
    for (const opt of members) cards.append(buildOptimizerCard(opt));
    box.append(summary, cards);
    list.append(box);
  }
}

/** Show `name`'s card: its group opened, the card scrolled into view, its toggle focused. */
function revealOptimizer(name) {
  const card = document.querySelector(`.opt-card[data-optimizer="${name}"]`);
  if (!card) return;
  const box = card.closest("details");
  if (box) box.open = true;
  card.scrollIntoView({ block: "nearest" });
  const toggle = card.querySelector(`[data-testid="toggle-${name}"]`);
  (toggle && !card.classList.contains("fixed") ? toggle : card).focus?.({ preventScroll: true });
}

/** "Your race": the racing optimizers as chips in their colours, dashes and shapes; the
 * count against the run limit; a note when the limit is reached. */
function syncRace() {
  const racing = state.optimizers;
  const limit = runLimit();
  const count = $("optimizer-count");
  count.textContent = Number.isFinite(limit)
    ? t("optimizers.count", { n: racing.length, max: limit })
    : String(racing.length);
  const full = racing.length >= limit;
  count.classList.toggle("full", full);
  const note = $("optimizer-full");
  const canToggle = getCatalog().optimizers.some((o) => controlVisible(`${o.name}.toggle`));
  note.hidden = !full || !canToggle;
  note.textContent = full ? t("optimizers.full", { max: limit }) : "";
  const row = $("optimizer-race");
  const key = JSON.stringify([racing, state.lang]);
  if (row.dataset.key !== key) {
    row.dataset.key = key;
    row.replaceChildren();
    row.setAttribute("aria-label", t("optimizers.group.yours"));
    const label = document.createElement("span");
    label.className = "opt-race-label";
    label.textContent = t("optimizers.group.yours");
    row.append(label);
    for (const name of racing) {
      const opt = optimizerSpec(name);
      if (!opt) continue;
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "race-chip";
      chip.dataset.testid = `race-chip-${name}`;
      chip.dataset.optimizer = name;
      chip.title = t("optimizers.chip", { name: optimizerTitle(name) });
      chip.innerHTML = `${runKey(opt, 11)}<span class="race-chip-name"></span>`;
      chip.querySelector(".race-chip-name").textContent = optimizerTitle(name);
      chip.addEventListener("click", () => revealOptimizer(name));
      row.append(chip);
    }
    if (!racing.length) {
      const none = document.createElement("span");
      none.className = "opt-race-none";
      none.textContent = t("optimizers.none");
      row.append(none);
    }
  }
  const enabled = new Set(racing);
  for (const box of document.querySelectorAll(".opt-group")) {
    const names = [...box.querySelectorAll(".opt-card")].map((c) => c.dataset.optimizer);
    const on = names.filter((n) => enabled.has(n)).length;
    box.querySelector(".opt-group-name").textContent = groupName(box.dataset.group);
    box.querySelector(".opt-group-count").textContent = t("optimizers.groupCount", {
      on,
      total: names.length,
    });
    const joined = names.some((n) => enabled.has(n) && !racingBefore?.has(n));
    if (racingBefore === null) box.open = on > 0;
    else if (joined) box.open = true;
  }
  racingBefore = enabled;
  for (const card of document.querySelectorAll(".opt-card")) {
    const toggle = card.querySelector(".opt-head input");
    const wait = full && !toggle.checked;
    toggle.disabled = wait;
    card.classList.toggle("waiting", wait);
    card.querySelector(".opt-head").title = wait ? t("optimizers.full", { max: limit }) : "";
  }
}

function buildOptimizerCard(opt) {
  const card = document.createElement("div");
  card.className = "opt-card";
  card.dataset.optimizer = opt.name;
  card.dataset.ctlGroup = opt.name;
  card.style.setProperty("--opt-color", opt.color);

  const head = document.createElement("label");
  head.className = "opt-head";
  head.dataset.ctl = `${opt.name}.toggle`;
  head.innerHTML = `<input type="checkbox" data-testid="toggle-${opt.name}">
    ${runKey(opt, 11)}<span class="opt-title"></span>`;
  head.querySelector(".opt-title").textContent = optimizerTitle(opt.name);
  const toggle = head.querySelector("input");
  toggle.addEventListener("change", () => {
    const enabled = new Set(state.optimizers);
    if (toggle.checked) enabled.add(opt.name);
    else enabled.delete(opt.name);
    if (enabled.size > runLimit()) {
      toggle.checked = false; // the limit: the server would refuse a thirteenth run
      return;
    }
    const ordered = getCatalog()
      .optimizers.map((o) => o.name)
      .filter((n) => enabled.has(n));
    update({ optimizers: ordered });
  });
  const headRow = document.createElement("div");
  headRow.className = "opt-head-row";
  const fixedTitle = document.createElement("span");
  fixedTitle.className = "opt-fixed-title";
  fixedTitle.innerHTML = `${runKey(opt, 11)}<span class="opt-title"></span>`;
  fixedTitle.querySelector(".opt-title").textContent = optimizerTitle(opt.name);
  // "Inside": this run's arrows, equations and step-by-step mode (inside.js).
  const inspect = document.createElement("button");
  inspect.type = "button";
  inspect.className = "chip inspect";
  inspect.dataset.testid = `inspect-${opt.name}`;
  inspect.dataset.ctl = `${opt.name}.inspect`;
  inspect.addEventListener("click", () => toggleInspect(opt.name));
  // A gradient-free method has no ∇f and no buffers: inside shows its update rule only.
  inspect.dataset.gradientFree = gradientFree(opt.name) ? "true" : "false";
  headRow.append(head, fixedTitle, inspect);
  card.append(headRow);

  for (const p of opt.params) card.append(buildParamRow(opt, p));
  return card;
}

function buildParamRow(opt, p) {
  const row = document.createElement("div");
  row.className = "param";
  row.dataset.ctl = `${opt.name}.${p.name}`;
  row.dataset.param = p.name;
  const id = `p-${opt.name}-${p.name}`;
  const scale = sliderScale(p);
  // Sliders that span decades get the card's full width, under their name and field.
  row.classList.toggle("wide", Boolean(p.log));
  row.innerHTML = `<label for="${id}" class="param-name"></label>
    <input type="range" class="slider" data-testid="slider-${opt.name}-${p.name}"
      min="${scale.min}" max="${scale.max}" step="${p.integer ? 1 : "any"}">
    <input type="number" class="num" id="${id}" data-testid="param-${opt.name}-${p.name}"
      step="any" min="${p.min}" max="${p.max}">`;
  const slider = row.querySelector(".slider");
  const field = row.querySelector(".num");
  // A 0/1 switch jumps to the clicked end; a wider range (the population, 4 to 100) steps.
  if (!p.integer || p.max - p.min > 1) bindTrackClicks(slider);
  slider.addEventListener("input", () => {
    const value = scale.toValue(Number(slider.value));
    field.value = fmtNumber(value);
    field.classList.remove("invalid");
    setParam(opt.name, p.name, value);
  });
  const commit = (final) => {
    const value = parseNumber(field.value);
    if (
      value === null ||
      value < p.min ||
      value > p.max ||
      (p.integer && !Number.isInteger(value))
    ) {
      const message = t(p.integer ? "error.intRange" : "error.range", {
        name: `${optimizerTitle(opt.name)} ${p.name}`,
        min: fmtNumber(p.min),
        max: fmtNumber(p.max),
      });
      field.classList.add("invalid");
      field.title = message;
      showError(message);
      if (final) {
        field.value = fmtNumber(state.params[opt.name][p.name]);
        field.classList.remove("invalid");
      }
      return;
    }
    field.classList.remove("invalid");
    field.title = "";
    showError(null);
    slider.value = scale.toSlider(value);
    setParam(opt.name, p.name, value);
  };
  field.addEventListener("input", () => commit(false));
  field.addEventListener("change", () => commit(true));
  return row;
}

// ------------------------------------------------------------------ schedule options
function buildScheduleOptions() {
  const box = $("schedule-options");
  box.replaceChildren();
  const kind = state.schedule.kind;
  const spec = getCatalog().schedules.find((x) => x.kind === kind);
  const options = [...(spec ? spec.options : [])];
  // Warmup last: it applies to every kind.
  options.sort((a, b) => (a.name === "warmup") - (b.name === "warmup"));
  for (const o of options) {
    const wrap = document.createElement("div");
    const id = `schedule-${o.name}`;
    wrap.innerHTML = `<label for="${id}"></label>
      <input type="number" id="${id}" data-testid="schedule-${o.name}" step="${o.integer ? 1 : "any"}">`;
    const label = wrap.querySelector("label");
    label.textContent = has(`schedule.opt.${o.name}`) ? t(`schedule.opt.${o.name}`) : o.name;
    // The page's words (static/i18n schedule.help.*); the catalogue's help is the API's English.
    const helpKey = [`schedule.help.${kind}.${o.name}`, `schedule.help.${o.name}`].find(has);
    label.title = helpKey ? t(helpKey) : o.help || "";
    const field = wrap.querySelector("input");
    const min = o.min ?? 0;
    const max = o.max ?? Infinity;
    field.min = String(min);
    if (Number.isFinite(max)) field.max = String(max);
    field.placeholder = t("schedule.default");
    field.dataset.option = o.name;
    field.addEventListener("input", () => {
      const text = field.value.trim();
      const schedule = { ...state.schedule };
      if (text === "") {
        if (o.name === "warmup") schedule.warmup = 0;
        else delete schedule[o.name];
      } else {
        const v = parseNumber(text);
        if (v === null || v < min || v > max || (o.integer && !Number.isInteger(v))) {
          field.classList.add("invalid");
          showError(
            t(o.integer ? "error.intRange" : "error.range", {
              name: label.textContent,
              min: fmtNumber(min),
              max: fmtNumber(max),
            }),
          );
          return;
        }
        schedule[o.name] = v;
      }
      field.classList.remove("invalid");
      showError(null);
      update({ schedule });
    });
    box.append(wrap);
  }
  box.dataset.kind = kind;
}

// ------------------------------------------------------------------ static selects
function fillSelects() {
  const catalog = getCatalog();
  const landscape = $("landscape");
  landscape.replaceChildren();
  for (const [name, meta] of catalog.landscapes) {
    const option = new Option(has(`landscape.${name}`) ? t(`landscape.${name}`) : meta.title, name);
    landscape.append(option);
  }
  const preset = $("preset");
  preset.replaceChildren(new Option(t("preset.none"), ""));
  for (const p of catalog.presets)
    preset.append(new Option(p.title[state.lang] || p.title.en, p.id));
  const schedule = $("schedule");
  schedule.replaceChildren();
  for (const s of catalog.schedules)
    schedule.append(new Option(t(`schedule.kind.${s.kind}`), s.kind));
  const speed = $("speed");
  speed.replaceChildren();
  for (const v of SPEEDS) speed.append(new Option(`${v}×`, String(v)));
}

function buildTeacherChoices() {
  const box = $("teacher-choices");
  const checked = new Set([...box.querySelectorAll("input:checked")].map((el) => el.value));
  if (!box.dataset.built) checked.add("adam.lr");
  box.dataset.built = "1";
  box.replaceChildren();
  const keys = [
    "preset",
    "landscape",
    "mode",
    "view",
    "optimizers",
    "steps",
    "start",
    "noise",
    "batch",
    "seed",
    "schedule",
    "share",
    "export",
  ];
  const add = (key, label) => {
    const el = document.createElement("label");
    el.innerHTML = `<input type="checkbox" value="${key}"><span></span>`;
    el.querySelector("span").textContent = label;
    el.querySelector("input").checked = checked.has(key);
    box.append(el);
  };
  for (const key of keys) add(key, t(`teacher.ctl.${key}`));
  for (const name of state.optimizers) {
    const opt = optimizerSpec(name);
    for (const p of opt.params)
      add(`${name}.${p.name}`, `${optimizerTitle(name)}: ${paramLabel(p.name, name)}`);
  }
}

export function teacherLink() {
  const chosen = [...$("teacher-choices").querySelectorAll("input:checked")].map((el) => el.value);
  return studentLink(
    toURL({
      ...state,
      show: chosen.length ? chosen : ["none"],
      hide: [],
      presentation: false,
    }),
  );
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ wiring
export function buildControls({ onPresentation }) {
  fillSelects();
  buildOptimizerCards();
  buildScheduleOptions();
  buildTeacherChoices();

  $("landscape").addEventListener("change", (e) => {
    const meta = landscapeMeta(e.target.value);
    update({ landscape: meta.name, start: [...meta.default_start], t: null });
  });
  $("preset").addEventListener("change", (e) => {
    const preset = getCatalog().presets.find((p) => p.id === e.target.value);
    if (!preset) {
      update(freeExploration()); // "Free exploration": PyTorch's defaults, every optimizer
      return;
    }
    update({ ...sceneState(preset.scene), preset: preset.id });
  });
  $("mode").addEventListener("change", (e) => update({ mode: e.target.value }));
  $("view").addEventListener("change", (e) => update({ view: e.target.value }));

  // Steps, seed and noise: ranges as the server enforces them (/api/settings).
  for (const key of ["steps", "seed", "noise"]) {
    const el = $(key);
    const { min, max, integer } = sceneOption(key);
    el.min = String(min);
    el.max = String(max);
    el.step = integer ? "1" : "any";
    const show = integer ? String : fmtNumber;
    const commit = (final) => {
      const v = parseNumber(el.value);
      if (v === null || (integer && !Number.isInteger(v)) || v < min || v > max) {
        el.classList.add("invalid");
        showError(
          t(integer ? "error.intRange" : "error.range", { name: t(`${key}.label`), min, max }),
        );
        if (final) {
          el.value = show(state[key]);
          el.classList.remove("invalid");
        }
        return;
      }
      el.classList.remove("invalid");
      showError(null);
      update({ [key]: v });
    };
    el.addEventListener("input", () => commit(false));
    el.addEventListener("change", () => commit(true));
  }

  for (const [i, id] of ["start-x", "start-y"].entries()) {
    $(id).addEventListener("change", (e) => {
      const v = parseNumber(e.target.value);
      // Any number is sent: the server checks it against the landscape's bounds and the
      // page shows its message, as for every other scene value it rejects.
      if (v === null) {
        e.target.value = fmtNumber(state.start[i]);
        return;
      }
      const start = [...state.start];
      start[i] = v;
      update({ start });
    });
  }

  $("schedule").addEventListener("change", (e) => {
    update({
      schedule: { ...defaultSchedule(e.target.value), warmup: state.schedule.warmup || 0 },
    });
  });

  $("speed").addEventListener("change", (e) => update({ speed: Number(e.target.value) }));
  $("loop").addEventListener("change", (e) => update({ loop: e.target.checked }));
  $("present").addEventListener("click", () => onPresentation(!state.presentation));
  bindLayout(); // the plot's share of the stage, per size and mode (layout.js)
  $("lang").addEventListener("click", () => update({ lang: state.lang === "ja" ? "en" : "ja" }));

  bindShare(); // loopback warning, or the room's link and its QR code (share.js)
  $("share").addEventListener("click", async () => {
    refreshShare();
    const url = studentLink();
    const ok = await copyText(url);
    $("share-feedback").textContent = ok ? t("share.copied") : t("share.select");
    if (!ok) $("share-url").select();
  });
  $("teacher").addEventListener("toggle", () => buildTeacherChoices());
  $("teacher-make").addEventListener("click", async () => {
    const url = teacherLink();
    $("teacher-url").value = url;
    const ok = await copyText(url);
    $("share-feedback").textContent = ok ? t("share.copied") : t("share.select");
    if (!ok) $("teacher-url").select();
  });
}

/** Write the state into every control (skipping a field the user is typing in). */
export function syncControls(changed) {
  const active = document.activeElement;
  const setValue = (el, text) => {
    if (el !== active && el.value !== text) el.value = text;
  };
  if (!changed || changed.has("lang")) {
    fillSelects();
    buildScheduleOptions();
    for (const card of document.querySelectorAll(".opt-card")) {
      for (const row of card.querySelectorAll(".param")) {
        const p = optimizerSpec(card.dataset.optimizer).params.find(
          (x) => x.name === row.dataset.param,
        );
        const label = row.querySelector(".param-name");
        label.textContent = paramLabel(p.name, card.dataset.optimizer);
        label.title = paramHelp(p, card.dataset.optimizer);
        row.title = paramHelp(p, card.dataset.optimizer);
      }
    }
    $("lang").textContent = state.lang === "ja" ? "English" : "日本語";
    for (const button of document.querySelectorAll(".opt-card .inspect")) {
      button.textContent = t("inside.toggle");
      const free = button.dataset.gradientFree === "true";
      button.title = t(free ? "inside.toggleTitleFree" : "inside.toggleTitle");
    }
    for (const title of document.querySelectorAll(".opt-card .opt-title")) {
      title.textContent = optimizerTitle(title.closest(".opt-card").dataset.optimizer);
    }
    buildTeacherChoices();
  }
  setValue($("landscape"), state.landscape);
  setValue($("preset"), state.preset || "");
  setValue($("mode"), state.mode);
  setValue($("view"), state.view);
  $("view").disabled = state.mode !== "overlay";
  setValue($("steps"), String(state.steps));
  setValue($("seed"), String(state.seed));
  setValue($("noise"), fmtNumber(state.noise));
  setValue($("start-x"), fmtNumber(state.start[0]));
  setValue($("start-y"), fmtNumber(state.start[1]));
  setValue($("speed"), String(state.speed));
  $("loop").checked = state.loop;

  const meta = landscapeMeta();
  $("formula").textContent = meta.formula;

  const preset = getCatalog().presets.find((p) => p.id === state.preset);
  $("preset-text").hidden = !preset;
  $("preset-text").textContent = preset ? preset.text[state.lang] || preset.text.en : "";

  if ($("schedule-options").dataset.kind !== state.schedule.kind) buildScheduleOptions();
  setValue($("schedule"), state.schedule.kind);
  for (const field of $("schedule-options").querySelectorAll("input")) {
    const v = state.schedule[field.dataset.option];
    setValue(field, v === undefined || v === null ? "" : fmtNumber(v));
  }

  for (const card of document.querySelectorAll(".opt-card")) {
    const name = card.dataset.optimizer;
    const on = state.optimizers.includes(name);
    card.classList.toggle("off", !on);
    card.querySelector(`[data-testid="toggle-${name}"]`).checked = on;
    const inspect = card.querySelector(".inspect");
    inspect.setAttribute("aria-pressed", state.inspect.includes(name) ? "true" : "false");
    inspect.disabled = !on;
    for (const row of card.querySelectorAll(".param")) {
      const p = optimizerSpec(name).params.find((x) => x.name === row.dataset.param);
      const value = state.params[name][p.name];
      const slider = row.querySelector(".slider");
      const field = row.querySelector(".num");
      if (slider !== active) slider.value = sliderScale(p).toSlider(value);
      if (field !== active) field.value = fmtNumber(value);
      row.classList.toggle("changed", value !== p.default);
    }
  }
  if (!changed || changed.has("optimizers") || changed.has("lang")) syncRace();
  if (changed?.has("optimizers")) buildTeacherChoices();
  applyVisibility();
}

/** Teacher mode: hide controls the link did not choose; hide groups left empty. */
export function applyVisibility() {
  for (const el of document.querySelectorAll("[data-ctl]")) {
    el.hidden = !controlVisible(el.dataset.ctl);
  }
  for (const card of document.querySelectorAll(".opt-card")) {
    const toggleShown = controlVisible(`${card.dataset.optimizer}.toggle`);
    card.classList.toggle("fixed", !toggleShown);
  }
  // Deepest groups first, so an emptied card also empties its section.
  const groups = [...document.querySelectorAll("[data-ctl-group]")].reverse();
  for (const group of groups) {
    const items = [...group.querySelectorAll("[data-ctl]")];
    group.hidden = items.length > 0 && items.every((el) => el.hidden);
  }
  // A teacher's link shows its controls: no optimizer group it keeps stays folded away, and
  // a group whose toggles it hides loses its heading (its cards are the exercise).
  for (const box of document.querySelectorAll(".opt-group")) {
    const cards = [...box.querySelectorAll(".opt-card")];
    const bare = cards.every((card) => card.classList.contains("fixed"));
    box.classList.toggle("bare", bare);
    if (state.show.length && !box.hidden) box.open = true;
  }
  // Presentation mode keeps the controls a `show=` link chose (see app.css).
  const chosen =
    state.show.length > 0 && [...document.querySelectorAll("[data-ctl]")].some((el) => !el.hidden);
  document.body.classList.toggle("teacher-show", chosen);
  const teacher = state.show.length > 0 || state.hide.length > 0;
  $("teacher-note").hidden = !teacher;
  document.body.classList.toggle("teacher-mode", teacher);
}
