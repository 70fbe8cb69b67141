// window.__gradscape: read-only hooks for the browser tests and the latency benchmark,
// e.g. redrawAfter(n): resolves once a run newer than run number n is fully drawn.

import { samplesAt } from "./dots.js";
import { stepping } from "./inside.js";
import { cursor, isPlaying } from "./playback.js";
import { current, currentId, runCounter } from "./runs.js";
import { state, toQuery } from "./state.js";

const waiters = [];

export const hooks = {
  state,
  ready: false,
  redraws: 0,
  lastRedraw: null, // {id, seq, at (performance.now()), complete, sentAt, doneAt}
  lastEffDraw: null, // {seq, at}: the effective-learning-rate chart, drawn after the paths
  runCounter,
  currentId,
  /** Resolves with the redraw record once a run sent after counter `n` is fully drawn. */
  redrawAfter(n) {
    const last = hooks.lastRedraw;
    if (last?.complete && last.seq > n) return Promise.resolve(last);
    return new Promise((resolve) => waiters.push({ n, resolve }));
  },
  runs: () =>
    current().runs.map((r) => ({
      optimizer: r.optimizer,
      title: r.title,
      batch: r.batch ?? null, // its mini-batch size; null: the full batch
      color: r.color,
      params: r.params,
      n: r.n,
      first: r.n ? [r.xs[0], r.ys[0]] : null,
      last: r.n ? [r.xs[r.n - 1], r.ys[r.n - 1]] : null,
      diverged_at: r.diverged_at,
      converged_at: r.converged_at,
      converged_to: r.converged_to,
      status: r.status ?? null,
      symbol: r.symbol,
      dash: r.dash,
      final_loss: r.final_loss,
      evaluations: r.evaluations ?? null,
      gradient: r.gradient !== false,
      // a gradient-free run's samples: points with samples kept, and those at the cursor
      sampled: r.samples ? r.samples.filter(Boolean).length : null,
    })),
  /** Run `optimizer`'s samples at point `at` (default: the cursor): {step, points: [[x, y]]}. */
  samplesAt(optimizer, at = cursor()) {
    const run = current().runs.find((r) => r.optimizer === optimizer);
    const found = run && samplesAt(run, at);
    if (!found) return null;
    const points = [];
    for (let i = 0; i < found.points.length; i += 2) {
      points.push([found.points[i], found.points[i + 1]]);
    }
    return { step: found.step, points, head: [run.xs[found.step], run.ys[found.step]] };
  },
  cursor,
  playing: isPlaying,
  stepping, // a step-by-step animation is running (inside.js)
  query: () => toQuery(),
};
window.__gradscape = hooks;

/** The effective-learning-rate chart (inside.js) drawn for run number `seq`. */
export function effDrawn(seq) {
  hooks.lastEffDraw = { seq, at: performance.now() };
}

/** Record a redraw of the current data; a complete one releases the waiting hooks. */
export function redrawn(complete) {
  const data = current();
  hooks.redraws += 1;
  hooks.lastRedraw = {
    id: data.id,
    seq: data.seq,
    at: performance.now(),
    complete,
    sentAt: data.sentAt,
    doneAt: data.doneAt,
  };
  if (!complete) return;
  for (let i = waiters.length - 1; i >= 0; i -= 1) {
    if (data.seq > waiters[i].n) {
      waiters[i].resolve(hooks.lastRedraw);
      waiters.splice(i, 1);
    }
  }
}
