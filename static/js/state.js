// The one state object. Views render from it, controls only change it, and the URL is
// its serialization (TensorFlow Playground style): one PROPS table — state key, URL key,
// type, default, where the range comes from — drives defaults, parsing and serializing.
// Defaults and ranges are the server's: hyperparameters and schedule options from
// /api/optimizers, steps, noise and seed from /api/settings. The only defaults written
// here are the page's own choices: the opening landscape, layout, view, language, speed.

import { has, LANGS, t } from "./i18n.js";

const listeners = new Set();
// {landscapes: Map, optimizers: [...], schedules: [...], presets: [...], settings: {...}}
let catalog = null;
let table = null; // PROPS for this catalog: hyperparameters and schedule options expand

export const SPEEDS = [0.25, 0.5, 1, 2, 4];
// What a bare address (no parameters) opens: a lesson with its explanation. PyTorch's
// defaults on Rosenbrock (lr 1e-3) leave four of six paths near the start and Adam looking
// worst; that scene is one click away as "Free exploration" (freeExploration below).
export const OPENING_PRESET = "rosenbrock";
// Keys an address typed by hand may carry and still open that lesson: how to show it, not
// which scene. Every link the page writes names its scene (landscape= and opt= always).
const OPENING_KEYS = new Set(["lang", "present", "stage"]);
export const MODES = ["overlay", "side_by_side"];
export const VIEWS = ["contour", "surface"];
// What the stage shows: the race (the main plot) or the Maps (maps.js).
export const STAGES = ["race", "maps"];
// The Maps stage's panels, in their order (maps.js).
export const MAPS_PANELS = ["sweep", "heatmap", "basins", "tune"];
// The heatmap's colour (maps_heatmap.js): steps to settle, or the final loss gap.
export const HEATMAP_COLORS = ["settle", "gap"];

// Keys whose change needs a new trajectory run.
export const RUN_KEYS = new Set([
  "inspect", // a run shown from inside needs its recorded state
  "landscape",
  "expr",
  "bounds",
  "optimizers",
  "params",
  "steps",
  "start",
  "noise",
  "seed",
  "schedule",
  "batch",
  "batchFull",
]);

export function setCatalog(value) {
  catalog = value;
  table = null;
}

export function getCatalog() {
  return catalog;
}

/** A scene option's {default, min, max, integer} as the server enforces it (/api/settings). */
export function sceneOption(name) {
  return catalog.settings.scene[name];
}

/** The palette, start/minimum colours and the contour colorscale (/api/settings). */
export function colors() {
  return catalog.settings.colors;
}

export function optimizerSpec(name) {
  return catalog.optimizers.find((o) => o.name === name);
}

// The server's group of the methods that sample f instead of following ∇f (simulated
// annealing, the genetic algorithm): no gradient buffers to show from inside, no maps.
export const GRADIENT_FREE = "gradient-free";

/** Whether optimizer `name` samples f at random instead of following its gradient. */
export function gradientFree(name) {
  return optimizerSpec(name)?.group === GRADIENT_FREE;
}

/** An optimizer's name on screen: the page's words where it has them (焼きなまし法 for
 * "Simulated annealing"), else the server's title. */
export function optimizerTitle(name) {
  const key = `optimizers.title.${name}`;
  if (has(key)) return t(key);
  const spec = optimizerSpec(name);
  return spec?.title || name;
}

export function landscapeMeta(name = state.landscape) {
  return catalog.landscapes.get(name);
}

// "Your function" (typed.js): the picker's entry for f(x, y) typed by the lecturer.
export const CUSTOM = "custom";
export const DEFAULT_EXPR = "x^2/20 + y^2"; // the lecture notes' elongated bowl
export const DEFAULT_BOUNDS = [
  [-3, 3],
  [-3, 3],
];

/** What a request names as its landscape: the name, or the typed function {expr, bounds}. */
export function landscapeRef(s = state) {
  if (s.landscape !== CUSTOM) return s.landscape;
  return { expr: s.expr || DEFAULT_EXPR, bounds: s.bounds ?? DEFAULT_BOUNDS };
}

/** A key for caches of grids and runs: the name, or the typed function's text and bounds. */
export function typedKey(ref) {
  return typeof ref === "string" ? ref : `${CUSTOM}|${JSON.stringify([ref.expr, ref.bounds])}`;
}

export const landscapeKey = (s = state) => typedKey(landscapeRef(s));

export function defaultParams(name) {
  const out = {};
  for (const p of optimizerSpec(name).params) out[p.name] = p.default;
  return out;
}

function scheduleSpec(kind) {
  return catalog.schedules.find((s) => s.kind === kind);
}

/** A schedule of `kind` with the server's defaults (a null default is the server's to fill). */
export function defaultSchedule(kind = "constant") {
  const out = { kind };
  for (const opt of scheduleSpec(kind)?.options ?? []) {
    if (opt.default !== undefined && opt.default !== null) out[opt.name] = opt.default;
  }
  return out;
}

// ---------------------------------------------------------------- the property table
// ?landscape=rosenbrock&opt=sgd,adam&adam.lr=0.05&steps=300&start=-1.5,2&noise=0.1&seed=3
// &schedule=cosine&schedule.warmup=20&mode=side_by_side&view=surface&lang=ja&present=1&speed=2
// &loop=1&t=120&preset=saddle&show=adam.lr,steps&hide=export
// &stage=maps&panel=basins&heatmap=nag&heatmap.color=gap
// A value equal to the one the link is read over (fresh defaults, or the preset's scene) is
// left out to keep links short; `always` ones are written anyway.

const num = (text) => {
  if (text.trim() === "") return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
};
const fmt = (v) => String(Number(v.toPrecision(12)));

/** How a value is read from a link (null: not a value of this type) and written back. */
export const Type = {
  TEXT: { parse: (text) => text, format: String },
  NUMBER: { parse: num, format: fmt },
  INTEGER: {
    parse: (text) => {
      const v = num(text);
      return v !== null && Number.isInteger(v) ? v : null;
    },
    format: String,
  },
  FLAG: { parse: (text) => text === "1", format: () => "1" },
  LIST: {
    parse: (text) =>
      text
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    format: (v) => v.join(","),
  },
  BOUNDS: {
    // xmin,xmax,ymin,ymax: each axis's lower bound below its upper one
    parse: (text) => {
      const v = text.split(",").map(num);
      if (v.length !== 4 || v.some((x) => x === null) || !(v[0] < v[1] && v[2] < v[3])) {
        return null;
      }
      return [v.slice(0, 2), v.slice(2)];
    },
    format: (v) => v.flat().map(fmt).join(","),
  },
  POINT: {
    parse: (text) => {
      const parts = text.split(",").map(num);
      return parts.length === 2 && parts.every((v) => v !== null) ? parts : null;
    },
    format: (v) => `${fmt(v[0])},${fmt(v[1])}`,
  },
};

/*
 * One entry per URL key, in link order (which is also parse order: landscape before start,
 * steps before t, the schedule kind before its options). Fields:
 *   name     the state key it lives in        key      the URL key
 *   type     a Type                           default  a value, or (state so far) => value
 *   values   () => the allowed values         range    () => {min, max, integer}
 *   get/set  for values nested in the state (default: state[name])
 *   base     (base, s) => the value a link is read over (default: base[name])
 *   always   written even when equal to the base
 *   after    applied only when the link also set this key
 */
function buildProps() {
  const names = catalog.optimizers.map((o) => o.name);
  const landscapes = [...catalog.landscapes.keys()];
  const params = catalog.optimizers.flatMap((o) =>
    o.params.map((p) => ({
      name: "params",
      key: `${o.name}.${p.name}`,
      type: Type.NUMBER,
      default: p.default,
      range: () => p,
      get: (s) => s.params[o.name]?.[p.name],
      set: (s, v) => {
        s.params = { ...s.params, [o.name]: { ...s.params?.[o.name], [p.name]: v } };
      },
      base: (base) => base.params[o.name]?.[p.name] ?? p.default,
    })),
  );
  // Options of some kinds first, then those every kind has (warmup), as the controls show them.
  const kinds = catalog.schedules.map((x) => x.options.map((o) => o.name));
  const everyKind = (name) => kinds.every((options) => options.includes(name));
  const union = [...new Set(kinds.flat())];
  const optionNames = [...union.filter((n) => !everyKind(n)), ...union.filter(everyKind)];
  const scheduleChanged = (s, base) => !sameSchedule(s.schedule, base.schedule);
  const scheduleOptions = optionNames.map((name) => ({
    name: "schedule",
    key: `schedule.${name}`,
    type: Type.NUMBER,
    after: "schedule",
    get: (s) => (s.schedule[name] === "" ? null : s.schedule[name]),
    set: (s, v) => {
      s.schedule = { ...s.schedule, [name]: v };
    },
    changed: scheduleChanged,
  }));
  const option = (name) => () => sceneOption(name);
  return [
    {
      name: "landscape",
      key: "landscape",
      type: Type.TEXT,
      always: true,
      values: () => landscapes,
      default: () => (catalog.landscapes.has("rosenbrock") ? "rosenbrock" : landscapes[0]),
      set: (s, v) => {
        if (v === s.landscape) return;
        s.landscape = v; // a new landscape starts at its own default start
        s.start = [...landscapeMeta(v).default_start];
        if (s.batch > samples(v)) s.batch = null; // a batch size is 1 … N of this one's data
      },
    },
    {
      // the typed function of landscape=custom (typed.js); empty: DEFAULT_EXPR
      name: "expr",
      key: "expr",
      type: Type.TEXT,
      default: "",
      get: (s) => (s.landscape === CUSTOM ? s.expr : null),
    },
    {
      name: "bounds",
      key: "bounds",
      type: Type.BOUNDS,
      default: null,
      get: (s) => (s.landscape === CUSTOM ? s.bounds : null),
    },
    { name: "mode", key: "mode", type: Type.TEXT, default: "overlay", values: () => MODES },
    { name: "view", key: "view", type: Type.TEXT, default: "contour", values: () => VIEWS },
    { name: "stage", key: "stage", type: Type.TEXT, default: "race", values: () => STAGES },
    {
      // the Maps panel in view (maps.js scrolls to it); null: the first
      name: "mapsPanel",
      key: "panel",
      type: Type.TEXT,
      default: null,
      values: () => MAPS_PANELS,
    },
    {
      // the heatmap's optimizer; null: Momentum, or the first enabled one with a second knob
      name: "heatmap",
      key: "heatmap",
      type: Type.TEXT,
      default: null,
      values: () => names,
    },
    {
      name: "heatmapColor",
      key: "heatmap.color",
      type: Type.TEXT,
      default: "settle",
      values: () => HEATMAP_COLORS,
    },
    {
      name: "optimizers",
      key: "opt",
      type: Type.LIST,
      always: true,
      // a fresh scene races the server's six (/api/optimizers "scene"), not all eighteen
      default: () => names.filter((n) => (catalog.scene ?? names).includes(n)),
      set: (s, wanted) => {
        s.optimizers = names.filter((n) => wanted.includes(n)); // catalog order
      },
    },
    ...params,
    {
      name: "steps",
      key: "steps",
      type: Type.INTEGER,
      always: true,
      default: () => sceneOption("steps").default,
      range: option("steps"),
    },
    {
      name: "start",
      key: "start",
      type: Type.POINT,
      default: (s) => [...landscapeMeta(s.landscape).default_start],
      base: (base, s) =>
        s.landscape === base.landscape ? base.start : landscapeMeta(s.landscape).default_start,
    },
    {
      name: "noise",
      key: "noise",
      type: Type.NUMBER,
      default: () => sceneOption("noise").default,
      range: option("noise"),
    },
    {
      name: "seed",
      key: "seed",
      type: Type.INTEGER,
      default: () => sceneOption("seed").default,
      range: option("seed"),
    },
    {
      // mini-batch size on a landscape over data (1 … its samples); null: the full batch
      name: "batch",
      key: "batch",
      type: Type.INTEGER,
      default: null,
      set: (s, v) => {
        s.batch = v !== null && v >= 1 && v <= samples(s.landscape) ? v : null;
      },
    },
    // with a batch size: each optimizer also races on the full batch, beside it
    { name: "batchFull", key: "batch.full", type: Type.FLAG, default: false },
    {
      name: "schedule",
      key: "schedule",
      type: Type.TEXT,
      default: "constant",
      values: () => catalog.schedules.map((x) => x.kind),
      get: (s) => s.schedule.kind,
      set: (s, kind) => {
        s.schedule = defaultSchedule(kind);
      },
      changed: scheduleChanged,
    },
    ...scheduleOptions,
    { name: "lang", key: "lang", type: Type.TEXT, default: LANGS[0], values: () => LANGS },
    { name: "presentation", key: "present", type: Type.FLAG, default: false },
    { name: "speed", key: "speed", type: Type.NUMBER, default: 1, values: () => SPEEDS },
    { name: "loop", key: "loop", type: Type.FLAG, default: false },
    {
      // playback cursor; null = the end of the run
      name: "t",
      key: "t",
      type: Type.INTEGER,
      default: null,
      range: () => ({ min: 0 }),
      set: (s, v) => {
        s.t = v === null ? null : Math.min(v, s.steps);
      },
    },
    {
      // read first, by baseState: a preset link is read over the preset's scene
      name: "preset",
      key: "preset",
      type: Type.TEXT,
      always: true,
      default: null,
      values: () => catalog.presets.map((p) => p.id),
    },
    {
      // "Inside the optimizer": the runs whose recorded state (arrows, equations) is shown
      name: "inspect",
      key: "inside",
      type: Type.LIST,
      default: [],
      set: (s, wanted) => {
        s.inspect = names.filter((n) => wanted.includes(n)); // catalog order
      },
    },
    { name: "show", key: "show", type: Type.LIST, default: [] }, // teacher mode: only these
    { name: "hide", key: "hide", type: Type.LIST, default: [] }, // teacher mode: never these
  ];
}

/** The property table for the current catalog. */
export function PROPS() {
  table ??= buildProps();
  return table;
}

const getter = (prop) => prop.get ?? ((s) => s[prop.name]);
const setter = (prop) =>
  prop.set ??
  ((s, v) => {
    s[prop.name] = v;
  });
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function sameSchedule(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? null) === (b[k] ?? null));
}

function allowed(prop, value) {
  if (prop.values && !prop.values().includes(value)) return false;
  const range = prop.range?.();
  if (!range) return true;
  if (range.min !== null && range.min !== undefined && value < range.min) return false;
  if (range.max !== null && range.max !== undefined && value > range.max) return false;
  return !range.integer || Number.isInteger(value);
}

// Every state key, so `update` can refuse unknown ones; filled in by init from the URL.
export const state = {
  landscape: null,
  expr: "",
  bounds: null,
  mode: null,
  view: null,
  stage: "race",
  mapsPanel: null,
  heatmap: null,
  heatmapColor: "settle",
  optimizers: [],
  params: {},
  steps: null,
  start: null,
  noise: null,
  seed: null,
  schedule: null,
  batch: null,
  batchFull: false,
  lang: null,
  presentation: false,
  speed: null,
  loop: false,
  t: null,
  preset: null,
  inspect: [],
  show: [],
  hide: [],
};

/** A fresh scene: Rosenbrock (else the first landscape), every optimizer, server defaults. */
export function defaultState() {
  const s = { params: {} };
  for (const prop of PROPS()) {
    if (!("default" in prop)) continue;
    const value =
      typeof prop.default === "function" ? prop.default(s) : structuredClone(prop.default);
    setter(prop)(s, value);
  }
  return s;
}

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Merge a patch into the state and tell every view which keys changed. */
export function update(patch) {
  const changed = new Set();
  for (const [key, value] of Object.entries(patch)) {
    if (!(key in state)) throw new Error(`unknown state key ${key}`);
    if (JSON.stringify(state[key]) !== JSON.stringify(value)) {
      state[key] = value;
      changed.add(key);
    }
  }
  if (changed.size) for (const fn of listeners) fn(changed);
  return changed;
}

export function setParam(optimizer, name, value) {
  const params = { ...state.params, [optimizer]: { ...state.params[optimizer], [name]: value } };
  update({ params });
}

/** Free exploration on `landscape`: the fresh scene's optimizers with PyTorch's defaults,
 * from the landscape's default start; layout, view, language and playback stay. */
export function freeExploration(landscape = state.landscape) {
  const fresh = defaultState();
  return {
    landscape,
    optimizers: fresh.optimizers,
    params: fresh.params,
    steps: fresh.steps,
    start: [...landscapeMeta(landscape).default_start],
    noise: fresh.noise,
    seed: fresh.seed,
    schedule: fresh.schedule,
    batch: null,
    batchFull: false,
    t: null,
    preset: null,
  };
}

/** A copy of `scene` (a preset) applied over fresh defaults for the scene-level fields. */
export function sceneState(scene) {
  const fresh = defaultState();
  const params = {};
  for (const o of catalog.optimizers) {
    params[o.name] = { ...defaultParams(o.name), ...(scene.params?.[o.name] || {}) };
  }
  const meta = landscapeMeta(scene.landscape);
  const kind = scene.schedule?.kind || fresh.schedule.kind;
  return {
    landscape: scene.landscape,
    mode: scene.mode || fresh.mode,
    optimizers: catalog.optimizers.map((o) => o.name).filter((n) => scene.optimizers.includes(n)),
    params,
    steps: scene.steps ?? fresh.steps,
    start: scene.start ? [...scene.start] : [...meta.default_start],
    noise: scene.noise ?? fresh.noise,
    seed: scene.seed ?? fresh.seed,
    schedule: { ...defaultSchedule(kind), ...(scene.schedule || {}) },
    batch: scene.batch ?? null,
    batchFull: Boolean(scene.batchFull),
    inspect: scene.inspect ? [scene.inspect] : [], // the run the lesson shows from inside
    ...(scene.stage ? { stage: scene.stage } : {}), // a lesson told with the Maps
    mapsPanel: scene.panel ?? null, // …and the panel it is told with
    t: null,
  };
}

/** Whether run `name` is shown from inside (enabled and inspected): only those are
 * recorded, so the page pays for the state it draws and nothing more. A gradient-free
 * method has no gradient buffers to record: inside shows its lecture form only. */
export function recorded(name, s = state) {
  return s.inspect.includes(name) && s.optimizers.includes(name) && !gradientFree(name);
}

/** A landscape's number of samples N (a loss over data), 0 for an analytic one. */
export function samples(landscape = state.landscape) {
  return landscapeMeta(landscape)?.samples ?? 0;
}

/** Each optimizer's runs by mini-batch size (null: the full batch), full batch first: one
 * run, or with `batchFull` two, raced side by side. Only a landscape over data has them. */
export function batches(s = state) {
  if (s.batch === null || !samples(s.landscape)) return [null];
  return s.batchFull ? [null, s.batch] : [s.batch];
}

/** Optimizer `name`'s runs by batch size: a gradient-free method reads no gradient, so it
 * takes no mini-batches (the server refuses a batch for it): its one run, unbatched. */
export function runBatches(name, s = state) {
  return gradientFree(name) ? [null] : batches(s);
}

/** The POST /api/trajectories (and WebSocket run) body of the current scene; `fullBatch`:
 * one run per optimizer on the full batch (the Maps, which compute full gradients). */
export function trajectoryRequest(s = state, fullBatch = false) {
  const schedule = s.schedule.kind === "constant" && !s.schedule.warmup ? null : { ...s.schedule };
  const sizes = fullBatch ? [null] : batches(s);
  return {
    landscape: landscapeRef(s),
    start: s.start,
    steps: s.steps,
    runs: s.optimizers.flatMap((name) =>
      (fullBatch ? sizes : runBatches(name, s)).map((batch) => ({
        optimizer: name,
        params: { ...s.params[name] },
        ...(batch === null ? {} : { batch }),
      })),
    ),
    // the mini-batches are the noise: the server takes one or the other
    noise: sizes.some((b) => b !== null) ? 0 : s.noise,
    seed: s.seed,
    schedule,
  };
}

// ---------------------------------------------------------------- URL serialization

/** The state a link is read over: fresh defaults, then the named preset's scene (if any). */
function baseState(presetId) {
  const s = defaultState();
  const preset = presetId && catalog.presets.find((p) => p.id === presetId);
  return preset ? { ...s, ...sceneState(preset.scene), preset: preset.id } : s;
}

export function toQuery(s = state) {
  const q = new URLSearchParams();
  // a link with `preset=` is read over that preset's scene, so diff against it
  const base = baseState(s.preset);
  for (const prop of PROPS()) {
    const value = getter(prop)(s);
    if (value === null || value === undefined) continue;
    const changed = prop.changed
      ? prop.changed(s, base)
      : !same(value, prop.base ? prop.base(base, s) : base[prop.name]);
    if (prop.always || changed) q.set(prop.key, prop.type.format(value));
  }
  return q.toString().replaceAll("%2C", ",");
}

export function toURL(s = state, extra = null) {
  const q = toQuery(s);
  let url = `${location.origin}${location.pathname}?${q}`;
  if (extra) url += `&${extra}`;
  return url;
}

/** Parse a query string over fresh defaults, or over `preset=`'s scene when the link
 * names one (so `?preset=saddle` alone opens that lecture scene); unknown or bad values
 * fall back to that base. A bare address (or one with only lang=/present=) opens
 * OPENING_PRESET; links the page writes name their scene, so they read as they always did. */
export function fromQuery(search) {
  const q = new URLSearchParams(search);
  const bare = [...q.keys()].every((key) => OPENING_KEYS.has(key));
  if (bare && catalog.presets.some((p) => p.id === OPENING_PRESET)) {
    q.set("preset", OPENING_PRESET);
  }
  const s = baseState(q.get("preset"));
  const read = new Set();
  for (const prop of PROPS()) {
    const text = q.get(prop.key);
    if (text === null || (prop.after && !read.has(prop.after))) continue;
    const value = prop.type.parse(text);
    if (value === null || !allowed(prop, value)) continue;
    setter(prop)(s, value);
    read.add(prop.key);
  }
  return s;
}

// ---------------------------------------------------------------- teacher mode
// Control keys: landscape, preset, mode, view, optimizers (every toggle), {opt} (a whole
// optimizer card), {opt}.toggle, {opt}.{param}, steps, start, noise, seed, schedule,
// share, export. `show=` lists the only controls students see; `hide=` removes some.

function selects(token, key) {
  if (token === key || key.startsWith(`${token}.`)) return true;
  return token === "optimizers" && key.endsWith(".toggle");
}

export function controlVisible(key, s = state) {
  if (s.show.length && !s.show.some((token) => selects(token, key))) return false;
  return !s.hide.some((token) => selects(token, key));
}
