// The runs on screen: asks the live channel for the runs the scene needs, keeps finished
// runs in a cache, and assembles what the views draw (`current()`); the landscape grids too.
// It draws nothing itself: main.js hands it callbacks to redraw and to show a message.

import { getJSON, LiveRunner, loadGrid } from "./api.js";
import { t } from "./i18n.js";
import {
  batches,
  CUSTOM,
  colors,
  gradientFree,
  landscapeKey,
  landscapeMeta,
  landscapeRef,
  optimizerSpec,
  optimizerTitle,
  recorded,
  runBatches,
  samples,
  state,
  trajectoryRequest,
} from "./state.js";
import { loadTyped, loadTypedWindow } from "./typed.js";

const GRID_RESOLUTION = 200;
// Significant digits of grid values: no plot shows more, and the grid compresses to half.
const GRID_DIGITS = 7;

const grids = new Map(); // landscape (or a typed function's key, state.js) -> grid reply
let data = { id: null, seq: 0, landscape: null, steps: 0, runs: [], complete: false };
let runner = null;
// {draw(): redraw with new data, message(text | null), settled(): a run ended undrawn}
let view = null;

/** What the views draw: {id, seq, landscape, steps, runs, complete, ...}. */
export function current() {
  return data;
}

export function gridOf(landscape) {
  return grids.get(landscape === CUSTOM ? landscapeKey() : landscape);
}

export const runCounter = () => (runner ? runner.counter : 0);
export const currentId = () => (runner ? runner.currentId : null);

export function startRuns(callbacks) {
  view = callbacks;
  runner = new LiveRunner(handlers);
}

// ------------------------------------------------------------------ run data
function fStar(landscape) {
  const values = landscapeMeta(landscape)
    .minima.filter((m) => m.kind === "global")
    .map((m) => m.value);
  return values.length ? Math.min(...values) : null;
}

/** A run's name on screen: the optimizer's title, and its batch size B when the scene races
 * mini-batches ("SGD · B = 8" beside "SGD · B = 272", the full batch): the course notes'
 * symbol, the same in every language. */
function runTitle(info) {
  const title = optimizerTitle(info.optimizer);
  if (batches().every((b) => b === null) || gradientFree(info.optimizer)) return title;
  return `${title} · B = ${info.batch ?? samples()}`;
}

function newRun(info, steps, fstar) {
  const spec = optimizerSpec(info.optimizer);
  const size = steps + 1;
  const served = colors();
  return {
    optimizer: info.optimizer,
    batch: info.batch ?? null,
    // in the page's language at every redraw (焼きなまし法 in Japanese)
    get title() {
      return runTitle(info);
    },
    color: info.color || spec?.color || served.palette[0],
    // The marker shape is the server's (app/palette.py), like the colour.
    symbol: info.symbol || served.symbols?.[info.optimizer] || "circle",
    dash: info.dash || served.dashes?.[info.optimizer] || "solid",
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
    status: null, // {code, step, floor, text: {en, ja}} from the done message
    final_loss: null,
    // f or ∇f evaluations (done message); gradient: whether they were gradients
    evaluations: null,
    gradient: !gradientFree(info.optimizer),
    // A gradient-free run's samples (chunk `samples`): per point the flat [x0, y0, x1, …]
    // of the points it evaluated to reach it, null where the server thinned them out.
    samples: gradientFree(info.optimizer) ? new Array(size).fill(null) : null,
    // What the optimizer held (issue 12), for a run the page asked to record: update t
    // (leaving point t) at index t; n updates known so far. null: not recorded.
    record: info.record ? newRecord(steps, info.buffers || []) : null,
  };
}

function newRecord(steps, buffers) {
  const state = {};
  for (const name of buffers) state[name] = new Float64Array(2 * steps);
  return {
    n: 0,
    buffers: [...buffers],
    grads: new Float64Array(2 * steps),
    lrs: new Float64Array(steps),
    state,
  };
}

/** Store updates first … first + m − 1 of a chunk's `record` ({first, grads, lrs, state}). */
export function storeRecord(rec, part) {
  if (!rec || !part) return;
  const limit = rec.lrs.length;
  // A value that overflowed is null in JSON (the API has no infinity): NaN here, not 0.
  const number = (x) => (x === null || x === undefined ? Number.NaN : x);
  const pairs = (target, values, i, k) => {
    const v = values[k];
    target[2 * i] = v === null ? Number.NaN : number(v[0]);
    target[2 * i + 1] = v === null ? Number.NaN : number(v[1]);
  };
  const m = part.grads.length;
  for (let k = 0; k < m && part.first + k < limit; k += 1) {
    const i = part.first + k;
    pairs(rec.grads, part.grads, i, k);
    rec.lrs[i] = number(part.lrs[k]);
    for (const [name, values] of Object.entries(part.state || {})) {
      rec.state[name] ??= new Float64Array(2 * limit);
      if (!rec.buffers.includes(name)) rec.buffers.push(name);
      pairs(rec.state[name], values, i, k);
    }
  }
  rec.n = Math.max(rec.n, Math.min(limit, part.first + m));
}

/** Store a chunk's samples (per point a list of [x, y], or null) from point `offset` on. */
export function storeSamples(target, entries, offset) {
  for (let k = 0; k < entries.length && offset + k < target.length; k += 1) {
    const entry = entries[k];
    if (!entry) continue;
    const flat = new Float64Array(2 * entry.length);
    entry.forEach((p, j) => {
      flat[2 * j] = p[0];
      flat[2 * j + 1] = p[1];
    });
    target[offset + k] = flat;
  }
}

// A short run finishes before anyone could see it grow; drawing every chunk would only
// compete with the server for the CPU. Long runs (thousands of steps) draw as they stream.
const PROGRESSIVE_MS = 150;
let progressiveTimer = null;

function scheduleProgressive() {
  if (progressiveTimer) return;
  progressiveTimer = setTimeout(() => {
    progressiveTimer = null;
    if (!data.complete) view.draw();
  }, PROGRESSIVE_MS);
}

// ------------------------------------------------------------------ run cache
// A finished run is cached by what determines it (scene + optimizer + its params).
// The core runs each optimizer on its own noise stream from the same seed, so a run
// computed alone is bit-identical to the same run computed with others: a slider move
// asks the server for one optimizer, not all of them.
const RUN_CACHE_LIMIT = 64;
const cache = new Map(); // run key -> complete run
const plans = new Map(); // message id -> what that run request was for

const seqOf = (id) => Number(String(id).slice(1));

function runKey(s, name, batch = null) {
  const { schedule, start, steps, noise, seed, landscape } = trajectoryRequest(s);
  const scene = [landscape, start, steps, noise, seed, schedule, name, s.params[name]];
  return JSON.stringify(batch === null ? scene : [...scene, batch]);
}

// A recorded run is cached under its own key; it serves a request without recording too.
const RECORDED = "|record";

// The schedule's factor per update (WS meta `lr_factors`), by what determines it, so a
// scene assembled from cached runs still draws its ηₜ chart. null: no schedule.
const lrFactorCache = new Map();
const lrKey = (s) => {
  const { schedule, steps } = trajectoryRequest(s);
  return JSON.stringify([schedule, steps]);
};

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
    lrFactors: lrFactorCache.get(plan.lrKey) ?? null,
    runs: plan.wanted.map((w) => plan.cached.get(w.key) || fresh[plan.missing.indexOf(w.key)]),
    fresh,
    plan,
    complete: fresh.length === 0,
    logScale: fstar !== null,
    sentAt: plan.sentAt,
  };
}

// ------------------------------------------------------------------ live channel messages
const handlers = {
  meta(msg) {
    const plan = plans.get(msg.id);
    plans.clear();
    if (!plan) return;
    const fstar = fStar(plan.landscape);
    const fresh = msg.runs.map((r) => newRun(r, plan.steps, fstar));
    if (msg.lr_factors !== undefined) {
      lrFactorCache.set(plan.lrKey, msg.lr_factors);
      while (lrFactorCache.size > RUN_CACHE_LIMIT) {
        lrFactorCache.delete(lrFactorCache.keys().next().value);
      }
    }
    data = assemble(msg.id, plan, fresh);
    view.message(null);
    // No redraw yet: the previous paths stay until this run's points arrive.
  },
  chunk(msg) {
    const run = data.fresh?.[msg.run];
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
    if (msg.samples && run.samples) storeSamples(run.samples, msg.samples, offset);
    if (msg.record) storeRecord(run.record, msg.record);
    scheduleProgressive();
  },
  done(msg) {
    msg.runs.forEach((info, i) => {
      const run = data.fresh?.[i];
      if (!run) return;
      run.complete = true;
      run.diverged_at = info.diverged_at ?? null;
      run.converged_at = info.converged_at ?? null;
      run.converged_to = info.converged_to ?? null;
      run.status = info.status ?? null;
      run.final_loss = info.final_loss ?? null;
      run.evaluations = info.evaluations ?? null;
      const key = data.plan.missing[i];
      remember(run.record || !key.endsWith(RECORDED) ? key : key.slice(0, -RECORDED.length), run);
    });
    data.complete = true;
    data.doneAt = performance.now();
    clearTimeout(progressiveTimer);
    progressiveTimer = null;
    view.draw();
  },
  error(msg) {
    view.message(t("error.server", { detail: msg.detail }));
    plans.clear();
    const seq = seqOf(msg.id ?? runner.currentId);
    if (data.landscape !== state.landscape) {
      // Nothing drawn for this landscape yet (a link whose scene the server refused, say
      // a start outside the bounds): show its bare contour, where a click sets a start.
      data = {
        id: msg.id,
        seq,
        landscape: state.landscape,
        steps: state.steps,
        runs: [],
        fresh: [],
        complete: true,
        errored: true,
      };
      view.draw();
      return;
    }
    // Keep the last good paths on screen; tell waiting hooks this run is over.
    data = { ...data, seq, errored: true };
    view.settled();
  },
};

// ------------------------------------------------------------------ asking for runs
let runQueued = false;

/** Ask for the runs of the current scene that are not cached (one request per task). */
export function scheduleRun() {
  if (runQueued) return;
  runQueued = true;
  // Changes made in one task (a preset sets ten keys) send one run; a slider drag fires
  // at most one input event per frame, and the server cancels all but the latest run.
  queueMicrotask(() => {
    runQueued = false;
    if (!state.optimizers.length) {
      const id = runner.skip();
      data = {
        id,
        seq: seqOf(id),
        landscape: state.landscape,
        steps: state.steps,
        runs: [],
        fresh: [],
        complete: true,
      };
      view.message(t("error.noOptimizer"));
      view.draw();
      return;
    }
    const sizes = batches();
    const wanted = state.optimizers.flatMap((name) =>
      runBatches(name).map((batch) => {
        const base = runKey(state, name, batch);
        const record = recorded(name);
        // Recorded, or the recorded run if one is cached (the same path, and more).
        const key = record || cache.has(base + RECORDED) ? base + RECORDED : base;
        return { name, batch, key, record };
      }),
    );
    const cached = new Map(
      wanted.filter((w) => cache.has(w.key)).map((w) => [w.key, cache.get(w.key)]),
    );
    // One optimizer on two batch sizes: the server styles the repeat apart from the rest
    // of the race it is sent with, so such a race is asked for whole (no cached runs).
    if (sizes.length > 1) cached.clear();
    const missing = wanted.filter((w) => !cached.has(w.key));
    const plan = {
      landscape: state.landscape,
      steps: state.steps,
      wanted,
      cached,
      missing: missing.map((w) => w.key),
      lrKey: lrKey(state),
      sentAt: performance.now(),
    };
    if (!missing.length) {
      // Everything is known (an optimizer toggled off, a value set back): no round trip,
      // but a fresh id, so messages of a run still in flight are dropped as stale.
      plans.clear();
      data = assemble(runner.skip(), plan, []);
      data.doneAt = performance.now();
      view.message(null);
      view.draw();
      return;
    }
    const request = trajectoryRequest();
    request.runs = request.runs.filter((r) =>
      missing.some((w) => w.name === r.optimizer && w.batch === (r.batch ?? null)),
    );
    for (const r of request.runs) if (recorded(r.optimizer)) r.record = true;
    plans.set(runner.run(request), plan);
  });
}

/** Load a landscape's grid once; the views redraw when it arrives. */
export async function ensureGrid(name) {
  const key = name === CUSTOM ? landscapeKey() : name;
  if (grids.has(key)) return;
  try {
    if (name === CUSTOM) {
      // a typed function's grid comes with its metadata (typed.js); a text the server
      // refuses shows its error under the field, and the last accepted one stays drawn
      grids.set(key, (await loadTyped(landscapeRef())).grid);
    } else {
      grids.set(key, await loadGrid(name, GRID_RESOLUTION, GRID_DIGITS));
    }
    view.draw();
  } catch (err) {
    if (name !== CUSTOM) view.message(t("error.server", { detail: err.message }));
  }
}

// Samples per side of a zoomed window's own grid (see plot.js: a zoom finer than the
// landscape's grid gets one, so its re-levelled contours stay smooth).
const WINDOW_RESOLUTION = 120;

/** The landscape sampled over a zoomed window (x/y ranges), coloured as its whole grid. */
export function loadWindowGrid(name, range) {
  const edges = (v) => Number(v.toPrecision(8));
  if (name === landscapeKey() && typeof landscapeRef() !== "string") {
    const window = [range.x.map(edges), range.y.map(edges)];
    return loadTypedWindow(landscapeRef(), window, WINDOW_RESOLUTION, GRID_DIGITS);
  }
  const query = new URLSearchParams({
    resolution: String(WINDOW_RESOLUTION),
    digits: String(GRID_DIGITS),
    x_min: String(edges(range.x[0])),
    x_max: String(edges(range.x[1])),
    y_min: String(edges(range.y[0])),
    y_max: String(edges(range.y[1])),
  });
  return getJSON(`/api/landscapes/${encodeURIComponent(name)}/grid?${query}`);
}
