// The one state object. Views render from it, controls only change it, and the URL is
// its serialization (TensorFlow Playground style). Hyperparameter defaults come from
// /api/optimizers: the page holds no optimizer defaults of its own.

const listeners = new Set();
let catalog = null; // {landscapes: Map, optimizers: [...], schedules: [...], presets: [...]}

export const state = {
  landscape: null,
  mode: "overlay", // overlay | side_by_side
  view: "contour", // contour | surface
  optimizers: [], // enabled optimizer names, in catalog order
  params: {}, // {optimizer: {param: value}}, every param filled
  steps: 200,
  start: null, // [x, y]
  noise: 0,
  seed: 0,
  schedule: { kind: "constant", warmup: 0 },
  lang: "en",
  presentation: false,
  speed: 1,
  loop: false,
  t: null, // playback cursor; null = end of the run
  preset: null,
  show: [], // teacher mode: only these controls
  hide: [], // teacher mode: never these controls
};

// Keys whose change needs a new trajectory run.
export const RUN_KEYS = new Set([
  "landscape", "optimizers", "params", "steps", "start", "noise", "seed", "schedule",
]);

export const SPEEDS = [0.25, 0.5, 1, 2, 4];

export function setCatalog(value) {
  catalog = value;
}

export function getCatalog() {
  return catalog;
}

export function optimizerSpec(name) {
  return catalog.optimizers.find((o) => o.name === name);
}

export function landscapeMeta(name = state.landscape) {
  return catalog.landscapes.get(name);
}

export function defaultParams(name) {
  const out = {};
  for (const p of optimizerSpec(name).params) out[p.name] = p.default;
  return out;
}

function scheduleOptionDefaults(kind) {
  const spec = catalog.schedules.find((s) => s.kind === kind);
  const out = {};
  for (const opt of spec ? spec.options : []) {
    if (typeof opt === "object" && opt.default !== undefined && opt.default !== null) {
      out[opt.name] = opt.default;
    }
  }
  return out;
}

export function defaultSchedule(kind = "constant") {
  return { kind, ...scheduleOptionDefaults(kind), warmup: 0 };
}

/** A fresh scene: Rosenbrock (else the first landscape), every optimizer, server defaults. */
export function defaultState() {
  const names = catalog.optimizers.map((o) => o.name);
  const landscape = catalog.landscapes.has("rosenbrock")
    ? "rosenbrock"
    : [...catalog.landscapes.keys()][0];
  const params = {};
  for (const name of names) params[name] = defaultParams(name);
  return {
    landscape,
    mode: "overlay",
    view: "contour",
    optimizers: names,
    params,
    steps: 200,
    start: [...landscapeMeta(landscape).default_start],
    noise: 0,
    seed: 0,
    schedule: defaultSchedule("constant"),
    lang: "en",
    presentation: false,
    speed: 1,
    loop: false,
    t: null,
    preset: null,
    show: [],
    hide: [],
  };
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

/** A copy of `scene` (a preset) applied over fresh defaults for the scene-level fields. */
export function sceneState(scene) {
  const params = {};
  for (const o of catalog.optimizers) {
    params[o.name] = { ...defaultParams(o.name), ...(scene.params?.[o.name] || {}) };
  }
  const meta = landscapeMeta(scene.landscape);
  const kind = scene.schedule?.kind || "constant";
  return {
    landscape: scene.landscape,
    mode: scene.mode || "overlay",
    optimizers: catalog.optimizers.map((o) => o.name).filter((n) => scene.optimizers.includes(n)),
    params,
    steps: scene.steps,
    start: scene.start ? [...scene.start] : [...meta.default_start],
    noise: scene.noise || 0,
    seed: scene.seed || 0,
    schedule: { ...defaultSchedule(kind), ...(scene.schedule || {}) },
    t: null,
  };
}

/** The POST /api/trajectories (and WebSocket run) body of the current scene. */
export function trajectoryRequest(s = state) {
  const schedule = s.schedule.kind === "constant" && !s.schedule.warmup ? null : { ...s.schedule };
  return {
    landscape: s.landscape,
    start: s.start,
    steps: s.steps,
    runs: s.optimizers.map((name) => ({ optimizer: name, params: { ...s.params[name] } })),
    noise: s.noise,
    seed: s.seed,
    schedule,
  };
}

// ---------------------------------------------------------------- URL serialization
// ?landscape=rosenbrock&opt=sgd,adam&adam.lr=0.05&steps=300&start=-1.5,2&noise=0.1&seed=3
// &schedule=cosine&schedule.warmup=20&mode=side_by_side&view=surface&lang=ja&present=1&speed=2
// &loop=1&t=120&preset=saddle&show=adam.lr,steps&hide=export
// Hyperparameters equal to the server default are left out to keep links short.

const fmt = (v) => String(Number(v.toPrecision(12)));

/** The state a link is read over: fresh defaults, then the named preset's scene (if any). */
function baseState(presetId) {
  const s = defaultState();
  const preset = presetId && catalog.presets.find((p) => p.id === presetId);
  return preset ? { ...s, ...sceneState(preset.scene), preset: preset.id } : s;
}

export function toQuery(s = state) {
  const q = new URLSearchParams();
  const fresh = defaultState();
  // a link with `preset=` is read over that preset's scene, so diff against it
  const base = baseState(s.preset);
  q.set("landscape", s.landscape);
  if (s.mode !== base.mode) q.set("mode", s.mode);
  if (s.view !== "contour") q.set("view", s.view);
  q.set("opt", s.optimizers.join(","));
  for (const o of catalog.optimizers) {
    for (const p of o.params) {
      const value = s.params[o.name]?.[p.name];
      const baseValue = base.params[o.name]?.[p.name] ?? p.default;
      if (value !== undefined && value !== baseValue) q.set(`${o.name}.${p.name}`, fmt(value));
    }
  }
  q.set("steps", String(s.steps));
  const ds = s.landscape === base.landscape ? base.start : landscapeMeta(s.landscape).default_start;
  if (s.start[0] !== ds[0] || s.start[1] !== ds[1]) {
    q.set("start", `${fmt(s.start[0])},${fmt(s.start[1])}`);
  }
  if (s.noise !== base.noise) q.set("noise", fmt(s.noise));
  if (s.seed !== base.seed) q.set("seed", String(s.seed));
  if (JSON.stringify(s.schedule) !== JSON.stringify(base.schedule)) {
    q.set("schedule", s.schedule.kind);
    for (const [k, v] of Object.entries(s.schedule)) {
      if (k !== "kind" && v !== null && v !== undefined && v !== "") q.set(`schedule.${k}`, fmt(v));
    }
  }
  if (s.lang !== "en") q.set("lang", s.lang);
  if (s.presentation) q.set("present", "1");
  if (s.speed !== fresh.speed) q.set("speed", String(s.speed));
  if (s.loop) q.set("loop", "1");
  if (s.t !== null) q.set("t", String(s.t));
  if (s.preset) q.set("preset", s.preset);
  if (s.show.length) q.set("show", s.show.join(","));
  if (s.hide.length) q.set("hide", s.hide.join(","));
  return q.toString().replaceAll("%2C", ",");
}

export function toURL(s = state, extra = null) {
  const q = toQuery(s);
  let url = `${location.origin}${location.pathname}?${q}`;
  if (extra) url += `&${extra}`;
  return url;
}

const num = (text) => {
  if (text === null || text.trim() === "") return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
};

/** Parse a query string over fresh defaults, or over `preset=`'s scene when the link
 * names one (so `?preset=saddle` alone opens that lecture scene); unknown or bad values
 * fall back to that base. */
export function fromQuery(search) {
  const q = new URLSearchParams(search);
  const s = baseState(q.get("preset"));
  const landscape = q.get("landscape");
  if (landscape && landscape !== s.landscape && catalog.landscapes.has(landscape)) {
    s.landscape = landscape;
    s.start = [...landscapeMeta(landscape).default_start];
  }
  if (["overlay", "side_by_side"].includes(q.get("mode"))) s.mode = q.get("mode");
  if (q.get("view") === "surface") s.view = "surface";
  const names = catalog.optimizers.map((o) => o.name);
  if (q.has("opt")) {
    const wanted = q.get("opt").split(",");
    s.optimizers = names.filter((n) => wanted.includes(n));
  }
  for (const o of catalog.optimizers) {
    for (const p of o.params) {
      const v = num(q.get(`${o.name}.${p.name}`));
      if (v !== null && v >= p.min && v <= p.max) s.params[o.name][p.name] = v;
    }
  }
  const steps = num(q.get("steps"));
  if (steps !== null && Number.isInteger(steps) && steps >= 1 && steps <= 10000) s.steps = steps;
  if (q.has("start")) {
    const parts = q.get("start").split(",").map(num);
    if (parts.length === 2 && parts.every((v) => v !== null)) s.start = parts;
  }
  const noise = num(q.get("noise"));
  if (noise !== null && noise >= 0 && noise <= 100) s.noise = noise;
  const seed = num(q.get("seed"));
  if (seed !== null && Number.isInteger(seed) && seed >= 0) s.seed = seed;
  const kind = q.get("schedule");
  if (kind && catalog.schedules.some((x) => x.kind === kind)) {
    s.schedule = defaultSchedule(kind);
    for (const [key, value] of q.entries()) {
      if (key.startsWith("schedule.")) {
        const v = num(value);
        if (v !== null) s.schedule[key.slice("schedule.".length)] = v;
      }
    }
  }
  if (q.get("lang") === "ja") s.lang = "ja";
  s.presentation = q.get("present") === "1";
  const speed = num(q.get("speed"));
  if (speed !== null && SPEEDS.includes(speed)) s.speed = speed;
  s.loop = q.get("loop") === "1";
  const t = num(q.get("t"));
  if (t !== null && Number.isInteger(t) && t >= 0) s.t = Math.min(t, s.steps);
  const list = (key) => (q.get(key) || "").split(",").map((x) => x.trim()).filter(Boolean);
  s.show = list("show");
  s.hide = list("hide");
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
