// Views of the scene, all rendered from plain data (runs, grid, cursor, theme).
// The main contour is two stacked Plotly charts: a static background (the contour,
// redrawn only when the landscape or the size changes) and a transparent foreground
// with the paths, so a slider move redraws only the paths.
// Plotly's private internals are read only through plotly_adapter.js.
/* global Plotly */

import { drawArrows } from "./arrows.js";
import { drawDots, samplesAt } from "./dots.js";
import { renderLegend, runKey } from "./legend.js";
import { dataAt, drawnRanges, plotArea } from "./plotly_adapter.js";
import { withLocale } from "./plotly_locale.js";
import { clipSeries, extent, landscapeRange, lossBand, shortNumber } from "./ranges.js";

export const FONT =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif';

export function theme(presentation) {
  return presentation
    ? {
        presentation: true,
        fontFamily: FONT,
        font: 18,
        text: "#ffffff",
        paper: "#000000",
        grid: "#444",
        line: 4.5,
        head: 17,
        minimum: 18,
        legendBg: "rgba(0,0,0,0.75)",
        halo: "0 0 3px #000, 0 0 2px #000, 0 0 1px #000",
      }
    : {
        presentation: false,
        fontFamily: FONT,
        font: 12,
        text: "#1f2328",
        paper: "#ffffff",
        grid: "#e3e6ea",
        line: 2.5,
        head: 11,
        minimum: 14,
        legendBg: "rgba(255,255,255,0.85)",
        halo: "0 0 3px #fff, 0 0 2px #fff, 0 0 1px #fff",
      };
}

const CONFIG_FG = {
  displaylogo: false,
  responsive: true,
  doubleClick: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toImage"],
};
const CONFIG_BG = { staticPlot: true, responsive: true };

const MARKERS = {
  global: { symbol: "star", key: "minimum.global" },
  local: { symbol: "circle-open", key: "minimum.local" },
  saddle: { symbol: "x", key: "minimum.saddle" },
};

function margins(compact, th, legendHeight = 0) {
  if (compact) return { l: 34, r: 6, t: 6, b: 24, autoexpand: false };
  // The top margin holds Plotly's toolbar, clear of the plot; the bottom one the tick
  // labels and, below them, the HTML legend (legend.js) in as many rows as it needs.
  return th.presentation
    ? { l: 64, r: 96, t: 36, b: 52 + legendHeight, autoexpand: false }
    : { l: 52, r: 80, t: 28, b: 40 + legendHeight, autoexpand: false };
}

function axis(range, th, visible, compact, which) {
  // Equal scale on both axes: gradients are perpendicular to the contours only then, and
  // the ill-conditioned bowl looks as elongated as it is.
  const scale =
    which === "x"
      ? { constrain: "domain", constraintoward: compact ? "center" : "right" }
      : {
          scaleanchor: "x",
          scaleratio: 1,
          constrain: "domain",
          constraintoward: compact ? "middle" : "top",
        };
  return {
    ...scale,
    range: [...range],
    autorange: false,
    showgrid: false,
    zeroline: false,
    showticklabels: visible,
    ticks: visible ? "outside" : "",
    ticklen: 4,
    tickfont: { size: compact ? Math.max(10, th.font - 2) : th.font },
    linecolor: visible ? th.text : "rgba(0,0,0,0)",
    showline: visible,
    mirror: visible,
  };
}

function baseLayout(range, th, compact, visible, legendHeight) {
  return {
    margin: margins(compact, th, legendHeight),
    paper_bgcolor: visible ? th.paper : "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: FONT, size: th.font, color: th.text },
    xaxis: axis(range.x, th, visible, compact, "x"),
    yaxis: axis(range.y, th, visible, compact, "y"),
    showlegend: false,
    dragmode: "zoom",
    hovermode: "closest",
    hoverlabel: { font: { family: FONT, size: th.font } },
  };
}

/** Where f − min f = 10^c on the colour axis: tick labels for a log-coloured contour. */
function logTicks(lo, hi) {
  const first = Math.ceil(lo);
  const last = Math.floor(hi);
  const tickvals = [];
  const ticktext = [];
  if (last - first < 1) {
    // A zoomed window spanning less than two powers of ten: label values in between.
    for (let k = 0; k <= 4; k += 1) {
      const c = lo + ((hi - lo) * k) / 4;
      tickvals.push(c);
      ticktext.push(shortNumber(10 ** c));
    }
    return { tickvals, ticktext };
  }
  const every = Math.max(1, Math.ceil((last - first + 1) / 7));
  for (let c = first; c <= last; c += every) {
    tickvals.push(c);
    ticktext.push(powerOfTen(c));
  }
  return { tickvals, ticktext };
}

const SUPERSCRIPT = {
  "-": "⁻",
  0: "⁰",
  1: "¹",
  2: "²",
  3: "³",
  4: "⁴",
  5: "⁵",
  6: "⁶",
  7: "⁷",
  8: "⁸",
  9: "⁹",
};

/** 10^c as the loss chart's axis writes it (1, 10, 10², 10⁻¹), not "1e-1"; the exporters
 * draw the same labels (app/export/render.py). */
export function powerOfTen(c) {
  if (c === 0) return "1";
  if (c === 1) return "10";
  return `10${[...String(c)].map((ch) => SUPERSCRIPT[ch]).join("")}`;
}

/** Round tick values (…, 0, 10, 20, …) for a linear colour bar whose levels are not round. */
function linearTicks(lo, hi) {
  const raw = (hi - lo) / 6;
  const decade = 10 ** Math.floor(Math.log10(raw));
  const dtick = [1, 2, 5, 10].map((m) => m * decade).find((v) => v >= raw) ?? 10 * decade;
  return { tickmode: "linear", tick0: 0, dtick };
}

/** Fraction of the plot height the equal-scale contour fills (for the colour bar's length). */
function heightFraction(el, range, th, compact, legendHeight) {
  const m = margins(compact, th, legendHeight);
  const w = el.clientWidth - m.l - m.r;
  const h = el.clientHeight - m.t - m.b;
  if (w <= 0 || h <= 0) return 1;
  const aspect = (range.x[1] - range.x[0]) / (range.y[1] - range.y[0]);
  return Math.min(1, w / aspect / h);
}

/** Data units per screen pixel of an equal-scale plot showing `range` in `el`. */
function unitsPerPixel(el, range, th, compact, legendHeight) {
  const m = margins(compact, th, legendHeight);
  const w = Math.max(1, el.clientWidth - m.l - m.r);
  const h = Math.max(1, el.clientHeight - m.t - m.b);
  return Math.max((range.x[1] - range.x[0]) / w, (range.y[1] - range.y[0]) / h);
}

/**
 * Contour levels from the colour values visible in `range`, so a zoomed view shows as many
 * levels as the whole landscape does (the noise floor around a minimum gets its own
 * contours instead of one flat colour). null when the range is the grid's whole extent.
 */
export function visibleLevels(grid, range, zoomed = false) {
  const xs = grid.x;
  const ys = grid.y;
  const whole =
    range.x[0] <= xs[0] &&
    range.x[1] >= xs[xs.length - 1] &&
    range.y[0] <= ys[0] &&
    range.y[1] >= ys[ys.length - 1];
  if (whole && !zoomed) return null;
  let lo = Infinity;
  let hi = -Infinity;
  let columns = 0;
  for (let j = 0; j < xs.length; j += 1)
    if (xs[j] >= range.x[0] && xs[j] <= range.x[1]) columns += 1;
  for (let i = 0; i < ys.length; i += 1) {
    if (ys[i] < range.y[0] || ys[i] > range.y[1]) continue;
    const row = grid.color[i];
    for (let j = 0; j < xs.length; j += 1) {
      if (xs[j] < range.x[0] || xs[j] > range.x[1]) continue;
      const v = row[j];
      if (v === null || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!(hi > lo)) return null;
  return { lo, hi, columns };
}

// A zoomed window with fewer grid samples across than this gets a finer grid of its own.
const MIN_ZOOM_SAMPLES = 60;

function contourTrace(grid, th, compact, t, colors, fraction = 1, levels = null) {
  const count = compact ? 18 : 26;
  const trace = {
    type: "contour",
    x: grid.x,
    y: grid.y,
    z: grid.color,
    colorscale: colors.colorscale,
    contours: { coloring: "fill", showlines: true },
    line: { width: 0.5, color: "rgba(255,255,255,0.35)", smoothing: 0.6 },
    hoverinfo: "skip",
    showscale: !compact,
  };
  // Exactly `count` levels over the colours shown: the landscape's whole range, or what a
  // zoomed window shows (Plotly's own choice rounds to fewer, coarser levels).
  const { cmin, cmax } = levels ? { cmin: levels.lo, cmax: levels.hi } : landscapeRange(grid);
  const size = (cmax - cmin) / count;
  trace.autocontour = false;
  trace.contours = { ...trace.contours, start: cmin + size / 2, end: cmax, size };
  trace.zauto = false;
  trace.zmin = cmin;
  trace.zmax = cmax;
  if (!compact) {
    trace.colorbar = {
      thickness: th.presentation ? 16 : 12,
      x: 1.015,
      xanchor: "left",
      y: 1,
      yanchor: "top",
      len: fraction,
      outlinewidth: 0,
      tickfont: { size: th.font - 1, color: th.text },
      title: {
        text: grid.log_color ? t("plot.colorLog") : "f",
        side: "right",
        font: { size: th.font, color: th.text },
      },
      ...(grid.log_color ? logTicks(cmin, cmax) : linearTicks(cmin, cmax)),
    };
  }
  return trace;
}

/**
 * Where the start label goes: on the side away from where the paths head first, so the
 * heads and step dots leaving the start don't cover it.
 */
function startLabelPosition(runs, start) {
  let dy = 0;
  for (const run of runs) {
    const i = Math.min(run.n - 1, 8);
    if (i < 1 || !Number.isFinite(run.ys[i])) continue;
    const len = Math.hypot(run.xs[i] - start[0], run.ys[i] - start[1]);
    if (len > 0) dy += (run.ys[i] - start[1]) / len;
  }
  // Above or below only: a label beside the point is cut off at the plot's side edges.
  return dy > 0 ? "bottom center" : "top center";
}

/** Static marks of the scene: minima and the start point, in the palette's colours. */
export function markTraces(meta, start, th, t, colors, runs = []) {
  const traces = [];
  for (const [kind, style] of Object.entries(MARKERS)) {
    const ms = meta.minima.filter((m) => m.kind === kind);
    if (!ms.length) continue;
    traces.push({
      type: "scatter",
      mode: "markers",
      x: ms.map((m) => m.x),
      y: ms.map((m) => m.y),
      marker: {
        symbol: style.symbol,
        size: th.minimum,
        color: colors.minimum,
        line: {
          color: kind === "global" ? "#000000" : "#ffffff",
          width: kind === "global" ? 1.2 : 2.5,
        },
      },
      hovertemplate: `${t(style.key)}<br>(%{x:.4g}, %{y:.4g})<br>f = %{customdata:.6g}<extra></extra>`,
      customdata: ms.map((m) => m.value),
      showlegend: false,
    });
  }
  traces.push({
    type: "scatter",
    mode: "markers+text",
    x: [start[0]],
    y: [start[1]],
    text: [t("plot.start")],
    textposition: startLabelPosition(runs, start),
    textfont: {
      color: "#ffffff",
      size: th.font,
      weight: 700,
      shadow: "0 0 3px #000, 0 0 2px #000, 0 0 1px #000",
    },
    marker: {
      symbol: "circle",
      size: th.head + 2,
      color: colors.start,
      line: { color: "#ffffff", width: 2 },
    },
    hovertemplate: `${t("plot.start")} (%{x:.4g}, %{y:.4g})<extra></extra>`,
    showlegend: false,
  });
  return traces;
}

/**
 * The first n values of a run's array, as the same view object while n is unchanged, so
 * Plotly.react sees unchanged traces as unchanged (it compares arrays by reference).
 */
function head(run, field, n) {
  run.views ??= {};
  const views = run.views;
  const hit = views[field];
  if (hit && hit.length === n) return hit;
  views[field] = run[field].subarray(0, n);
  return views[field];
}

const NICE = [1, 2, 5];

/**
 * Every how many steps a path gets a dot: a round number giving about `target` dots over
 * the run, so the spacing between dots shows how far k steps go (short, long, short again
 * under warmup and decay) without the dots merging into a line.
 */
export function dotEvery(steps, target) {
  const raw = steps / target;
  if (raw <= 1) return 1;
  const decade = 10 ** Math.floor(Math.log10(raw));
  for (const m of [...NICE, 10]) if (m * decade >= raw) return m * decade;
  return 10 * decade;
}

/** A run's step dots (every k-th point, start excluded) up to point n − 1. */
function dots(run, k, n) {
  run.views ??= {};
  let cache = run.views.dots;
  if (!cache || cache.k !== k || cache.size !== run.n) {
    const count = Math.floor((run.n - 1) / k);
    cache = {
      k,
      size: run.n,
      xs: new Float64Array(count),
      ys: new Float64Array(count),
      steps: new Float64Array(count),
      views: null,
    };
    for (let i = 0; i < count; i += 1) {
      const step = (i + 1) * k;
      cache.xs[i] = run.xs[step];
      cache.ys[i] = run.ys[step];
      cache.steps[i] = step;
    }
    run.views.dots = cache;
  }
  const m = Math.max(0, Math.floor((n - 1) / k));
  if (!cache.views || cache.views.m !== m) {
    cache.views = {
      m,
      x: cache.xs.subarray(0, m),
      y: cache.ys.subarray(0, m),
      steps: cache.steps.subarray(0, m),
    };
  }
  return cache.views;
}

const inside = (x, y, range) =>
  x >= range.x[0] && x <= range.x[1] && y >= range.y[0] && y <= range.y[1];

/** A coordinate to the precision a marker's width can show at this zoom (`step`). */
function fmtCoord(v, step) {
  const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(step))));
  const text = v.toFixed(decimals);
  return (Number(text) === 0 ? 0 : text).toString().replace("-", "−");
}

/**
 * Heads that sit on each other or on a minimum or the start (closer than a marker) are
 * fanned out around the true point, with thin leader lines back to it; a note says how many
 * runs ended there. Returns the drawn positions and the shapes and annotations to add.
 */
function spreadHeads(heads, obstacles, unit, th, t) {
  const reach = th.head * 0.9; // px: closer than this, two markers read as one
  const drawn = heads.map((h) => ({ x: h.x, y: h.y }));
  const shapes = [];
  const annotations = [];
  const taken = new Array(heads.length).fill(false);
  for (let i = 0; i < heads.length; i += 1) {
    if (taken[i] || heads[i].off) continue;
    const group = [i];
    taken[i] = true;
    for (let j = i + 1; j < heads.length; j += 1) {
      if (taken[j] || heads[j].off) continue;
      const d = Math.hypot(heads[j].x - heads[i].x, heads[j].y - heads[i].y) / unit;
      if (d < reach) {
        group.push(j);
        taken[j] = true;
      }
    }
    const cx = heads[i].x;
    const cy = heads[i].y;
    // px from the nearest minimum or start marker, if one is close enough to be covered
    let crowded = null;
    let byStart = false;
    for (const o of obstacles) {
      const d = Math.hypot(o[0] - cx, o[1] - cy) / unit;
      if (d < th.minimum && (crowded === null || d < crowded)) {
        crowded = d;
        byStart = Boolean(o.label);
      }
    }
    if (group.length === 1 && crowded === null) continue;
    // By the start, heads keep to the half away from its label: an arc, not a circle.
    const arc = byStart ? Math.PI : 2 * Math.PI;
    // Far enough out to clear a minimum's marker, and each other round the circle
    // (plus the distance to that marker: then every head clears it by the same margin).
    const radius =
      Math.max((th.minimum + th.head) / 2 + 1, (group.length * th.head * 1.05) / arc) +
      (crowded ?? 0);
    // Angles clockwise from the right, y up: −π/2 is straight up.
    let first = group.length === 1 ? -Math.PI / 4 : -Math.PI / 2;
    let spacing = arc / group.length;
    if (byStart) {
      const labelBelow = obstacles.find((o) => o.label).label === "bottom";
      first = (labelBelow ? -Math.PI : 0) + spacing / 2;
      spacing = Math.PI / group.length;
    }
    group.forEach((index, k) => {
      const a = first + spacing * k;
      drawn[index] = {
        x: cx + radius * unit * Math.cos(a),
        y: cy - radius * unit * Math.sin(a),
      };
      shapes.push({
        type: "line",
        x0: cx,
        y0: cy,
        x1: drawn[index].x,
        y1: drawn[index].y,
        line: { color: th.presentation ? "#ffffff" : "#000000", width: 1 },
        layer: "above",
      });
    });
    // Heads meet in passing during playback; a note is for runs that ended together.
    if (group.length > 1 && group.every((index) => heads[index].ended)) {
      annotations.push({
        x: cx,
        y: cy,
        xref: "x",
        yref: "y",
        yshift: radius + th.head * 1.1,
        yanchor: "bottom",
        showarrow: false,
        text: t("plot.endedAt", {
          count: group.length,
          x: fmtCoord(cx, reach * unit),
          y: fmtCoord(cy, reach * unit),
        }),
        font: { size: Math.max(11, th.font - 1), color: th.text, shadow: th.halo },
        bgcolor: th.legendBg,
        borderpad: 2,
        name: "cluster-note",
      });
    }
  }
  return { drawn, shapes, annotations };
}

/**
 * Where a path leaves `range` between its last point inside, a, and the next, b (which may
 * be non-finite: then at a), and the direction it goes, as Plotly's marker angle (degrees
 * clockwise from up).
 */
function exitPoint(a, b, range) {
  if (!Number.isFinite(b[0]) || !Number.isFinite(b[1])) return { x: a[0], y: a[1], angle: 0 };
  let t = 1;
  const d = [b[0] - a[0], b[1] - a[1]];
  for (const [axis, i] of [
    ["x", 0],
    ["y", 1],
  ]) {
    if (d[i] > 0) t = Math.min(t, (range[axis][1] - a[i]) / d[i]);
    if (d[i] < 0) t = Math.min(t, (range[axis][0] - a[i]) / d[i]);
  }
  t = Math.max(0, t);
  return {
    x: a[0] + t * d[0],
    y: a[1] + t * d[1],
    angle: 90 - (Math.atan2(d[1], d[0]) * 180) / Math.PI,
  };
}

/**
 * Path traces of the runs up to step `cursor`: per run its line and its step dots (in its
 * marker shape), then one trace of the heads (drawn last, above the minima and the start),
 * plus the leader lines and notes that keep coincident heads apart and say where runs left
 * the view. `view` = {range, unit (data per pixel), obstacles: [[x, y]], steps, compact}.
 */
export function pathTraces(runs, cursor, th, t, view) {
  const traces = [];
  const heads = [];
  const k = dotEvery(view.steps, view.compact ? 14 : 28);
  const notes = [];
  // Every run's step dots, drawn on a canvas over the paths (dots.js), not by Plotly.
  const dotPoints = [];
  // A gradient-free run's samples at the cursor (the population, the proposal), on the
  // same canvas: cheap on every frame of playback.
  const samplePoints = [];
  runs.forEach((run, index) => {
    const n = Math.min(run.n, cursor + 1);
    if (n <= 0) return;
    // Earlier runs draw wider: where two paths coincide, the one below shows at its edges.
    // The widening is shared out, so the first of twelve runs is not a 9 px band.
    const spread = Math.min(
      th.presentation ? 0.9 : 0.6,
      (th.presentation ? 4.5 : 3) / (runs.length - 1),
    );
    const width = th.line + (runs.length - 1 - index) * spread;
    traces.push({
      type: "scatter",
      mode: "lines",
      x: head(run, "xs", n),
      y: head(run, "ys", n),
      customdata: head(run, "losses", n),
      line: { color: run.color, width, dash: run.dash || "solid" },
      name: run.title,
      showlegend: false,
      hovertemplate:
        `<b>${run.title}</b><br>${t("plot.step")} %{pointNumber}<br>` +
        "(%{x:.4g}, %{y:.4g})<br>f = %{customdata:.4g}<extra></extra>",
    });
    const d = dots(run, k, n);
    for (let i = 0; i < d.x.length; i += 1) {
      dotPoints.push({
        x: d.x[i],
        y: d.y[i],
        step: d.steps[i],
        optimizer: run.optimizer,
        color: run.color,
        symbol: run.symbol,
      });
    }
    const x = run.xs[n - 1];
    const y = run.ys[n - 1];
    const sampled = samplesAt(run, n - 1);
    if (sampled) {
      samplePoints.push({
        optimizer: run.optimizer,
        color: run.color,
        symbol: run.symbol,
        // one sample per point: annealing's proposal; more: the genetic algorithm's generation
        kind: sampled.points.length === 2 ? "proposal" : "population",
        step: sampled.step,
        head: [run.xs[sampled.step], run.ys[sampled.step]],
        points: sampled.points,
      });
    }
    const ended = run.complete && cursor >= run.n - 1;
    const diverged = ended && run.diverged_at !== null;
    const off = !Number.isFinite(x) || !Number.isFinite(y) || !inside(x, y, view.range);
    let exit = null;
    if (off) {
      let step = 0;
      while (step < n && inside(run.xs[step], run.ys[step], view.range)) step += 1;
      notes.push(t("plot.offView", { name: run.title, step }));
      // The arrow sits where the path crosses the edge, pointing the way it went.
      exit =
        step > 0
          ? exitPoint(
              [run.xs[step - 1], run.ys[step - 1]],
              [run.xs[step], run.ys[step]],
              view.range,
            )
          : { x: run.xs[0], y: run.ys[0], angle: 0 };
    }
    heads.push({ x, y, run, ended, diverged, off, exit });
  });
  const { drawn, shapes, annotations } = spreadHeads(heads, view.obstacles, view.unit, th, t);
  const inset = (th.head / 2) * view.unit;
  const marker = { x: [], y: [], color: [], symbol: [], angle: [], text: [], size: [] };
  heads.forEach((h, i) => {
    let { x, y } = drawn[i];
    let symbol = h.diverged ? "x" : h.run.symbol;
    let angle = 0;
    let size = th.head;
    if (h.off) {
      // Just inside the edge the path left by, an arrow pointing on out.
      x = Math.min(Math.max(h.exit.x, view.range.x[0] + inset), view.range.x[1] - inset);
      y = Math.min(Math.max(h.exit.y, view.range.y[0] + inset), view.range.y[1] - inset);
      angle = h.exit.angle;
      symbol = "arrow";
      size = Math.round(th.head * 1.4);
    }
    marker.size.push(size);
    marker.x.push(x);
    marker.y.push(y);
    marker.color.push(h.run.color);
    marker.symbol.push(symbol);
    marker.angle.push(angle);
    marker.text.push(h.run.optimizer);
  });
  traces.push({
    type: "scatter",
    mode: "markers",
    x: marker.x,
    y: marker.y,
    text: marker.text,
    name: "heads",
    marker: {
      size: marker.size,
      color: marker.color,
      symbol: marker.symbol,
      angle: marker.angle,
      line: { color: th.presentation ? "#ffffff" : "#000000", width: 1.5 },
    },
    hoverinfo: "skip",
    showlegend: false,
  });
  if (notes.length && !view.compact) {
    // The axes' own box: with equal scale it is narrower than the area the margins leave.
    annotations.push({
      ...cornerNote(notes, th, "off-view-note"),
      xref: "x domain",
      yref: "y domain",
      font: { size: Math.max(11, th.font - 1), color: th.text, shadow: th.halo },
      borderpad: 3,
    });
  }
  const stepDots = {
    every: k,
    size: Math.round(th.head * 0.75),
    outline: th.presentation ? "#000000" : "#ffffff",
    points: dotPoints,
    samples: samplePoints,
    presentation: th.presentation,
  };
  return { traces, shapes, annotations, dots: stepDots };
}

class LayeredPlot {
  constructor(el, { compact = false, onStart, onRange, colors, loadWindow }) {
    this.el = el;
    this.compact = compact;
    this.colors = colors;
    this.onStart = onStart;
    this.onRange = onRange;
    this.loadWindow = loadWindow; // (range) => Promise<grid over that window>
    el.classList.add("layered");
    this.bg = document.createElement("div");
    this.bg.className = "layer layer-bg";
    this.fg = document.createElement("div");
    this.fg.className = "layer layer-fg";
    this.dotLayer = document.createElement("canvas");
    this.dotLayer.className = "layer layer-dots";
    this.dotLayer.style.pointerEvents = "none";
    this.dotLayer.style.width = "100%";
    this.dotLayer.style.height = "100%";
    // The arrows at the cursor (arrows.js), over the dots; clicks pass here too.
    this.arrowLayer = document.createElement("canvas");
    this.arrowLayer.className = "layer layer-arrows";
    this.arrowLayer.dataset.testid = "arrows";
    this.arrowLayer.style.pointerEvents = "none";
    this.arrowLayer.style.width = "100%";
    this.arrowLayer.style.height = "100%";
    // Above the paths (a dot under a thick line of its own colour is lost), clicks pass.
    el.append(this.bg, this.fg, this.dotLayer, this.arrowLayer);
    this.dots = null;
    this.arrowSpec = null;
    if (!compact) {
      this.legend = document.createElement("div");
      this.legend.className = "plot-legend";
      this.legend.dataset.testid = "plot-legend";
      el.append(this.legend);
    }
    this.legendHeight = 0;
    this.bgKey = null;
    this.range = null;
    this.bounds = null;
    this.zoomGrid = null;
    this.lastBackground = null;
    this.fgReady = false;
    this.down = null;
    this.fg.addEventListener("mousedown", (e) => {
      this.down = [e.clientX, e.clientY];
    });
    this.fg.addEventListener("click", (e) => this.click(e));
    this.fg.addEventListener("dblclick", () => this.setRange(this.bounds, true));
  }

  click(e) {
    if (!this.down || Math.hypot(e.clientX - this.down[0], e.clientY - this.down[1]) > 4) return;
    if (!this.onStart) return;
    const point = dataAt(this.fg, e.clientX, e.clientY);
    if (point) this.onStart(point);
  }

  setBounds(bounds) {
    const b = { x: [...bounds[0]], y: [...bounds[1]] };
    if (JSON.stringify(b) !== JSON.stringify(this.bounds)) {
      this.bounds = b;
      this.range = { x: [...b.x], y: [...b.y] };
      this.bgKey = null;
      this.zoomGrid = null;
    }
  }

  /** The legend's rows, drawn below the plot; its height sets the bottom margin. */
  setLegend(runs, th) {
    if (!this.legend) return;
    this.legendHeight = renderLegend(this.legend, runs, th);
    this.placeLegend();
  }

  /** The legend right under the x-axis labels, not at the box's bottom: a wide landscape's
   * equal-scale axes leave a band below them, which then lies under the legend instead of
   * between the plot and its key. */
  placeLegend() {
    if (!this.legend || this.compact) return;
    const top = this.legendTop;
    Object.assign(
      this.legend.style,
      top ? { top: `${top}px`, bottom: "auto" } : { top: "auto", bottom: "0" },
    );
  }

  /** Data units per pixel and what the heads must not hide, for pathTraces. */
  view(th, obstacles, steps) {
    this.box = { width: this.el.clientWidth, height: this.el.clientHeight };
    return {
      range: this.range,
      unit: unitsPerPixel(this.el, this.range, th, this.compact, this.legendHeight),
      obstacles,
      steps,
      compact: this.compact,
    };
  }

  async background(grid, th, t, key) {
    this.lastBackground = { grid, th, t, key };
    const zoom =
      this.zoomGrid?.key === key && this.zoomGrid.covers(this.range) ? this.zoomGrid : null;
    const used = zoom ? zoom.grid : grid;
    const usedLevels = visibleLevels(used, this.range, Boolean(zoom));
    const fraction = heightFraction(this.el, this.range, th, this.compact, this.legendHeight);
    const fullKey = [
      key,
      th.presentation,
      t("plot.colorLog"),
      fraction.toFixed(3),
      this.legendHeight,
      usedLevels ? JSON.stringify(this.range) : "",
      used === grid ? "" : "zoom",
    ].join("|");
    if (fullKey === this.bgKey) return;
    this.bgKey = fullKey;
    // newPlot, not react: the contour changes rarely and a diffed colour bar can end up
    // half-updated (NaN heights) when its title and ticks change together.
    await Plotly.newPlot(
      this.bg,
      [contourTrace(used, th, this.compact, t, this.colors, fraction, usedLevels)],
      baseLayout(this.range, th, this.compact, true, this.legendHeight),
      CONFIG_BG,
    );
    this.bg.dataset.levels = usedLevels ? "zoomed" : "whole";
    const area = plotArea(this.bg);
    const below = area ? area.top + area.height + Math.round(th.font * 1.5) + 12 : null;
    this.legendTop =
      below && below + this.legendHeight < this.el.clientHeight ? Math.round(below) : null;
    this.placeLegend();
    // Too few samples across the zoomed window: ask for a grid of its own.
    if (usedLevels && used === grid && usedLevels.columns < MIN_ZOOM_SAMPLES) {
      this.fetchWindow(key);
    }
  }

  async fetchWindow(key) {
    if (!this.loadWindow) return;
    const range = { x: [...this.range.x], y: [...this.range.y] };
    const wanted = JSON.stringify(range);
    if (this.pendingWindow === wanted) return;
    this.pendingWindow = wanted;
    let grid;
    try {
      grid = await this.loadWindow(range);
    } catch {
      return; // the coarse grid stays: re-levelled, only less smooth
    } finally {
      if (this.pendingWindow === wanted) this.pendingWindow = null;
    }
    if (!grid || JSON.stringify(this.range) !== wanted) return;
    this.zoomGrid = {
      key,
      grid,
      covers: (r) =>
        r.x[0] >= range.x[0] &&
        r.x[1] <= range.x[1] &&
        r.y[0] >= range.y[0] &&
        r.y[1] <= range.y[1],
    };
    this.bgKey = null;
    this.redrawBackground();
  }

  redrawBackground() {
    const last = this.lastBackground;
    if (last) return this.background(last.grid, last.th, last.t, last.key);
    return null;
  }

  async paths({ traces, shapes, annotations, dots }, th, arrows = null) {
    const layout = baseLayout(this.range, th, this.compact, false, this.legendHeight);
    layout.shapes = shapes;
    layout.annotations = annotations;
    await Plotly.react(this.fg, traces, layout, withLocale(CONFIG_FG));
    this.dots = dots;
    drawDots(this.dotLayer, this.fg, dots, this.box);
    this.drawArrows(arrows);
    if (!this.fgReady) {
      this.fgReady = true;
      this.fg.on("plotly_relayout", (ev) => this.relayouted(ev));
    }
  }

  /** The arrows at the cursor; `spec` null clears them (nothing shown from inside). */
  drawArrows(spec) {
    this.arrowSpec = spec;
    drawArrows(this.arrowLayer, this.fg, spec, this.box ?? this.measure());
  }

  measure() {
    this.box = { width: this.el.clientWidth, height: this.el.clientHeight };
    return this.box;
  }

  relayouted(ev) {
    if (this.syncing) return;
    const keys = Object.keys(ev || {});
    if (!keys.some((k) => k.startsWith("xaxis") || k.startsWith("yaxis"))) return;
    if (keys.some((k) => k.endsWith("autorange"))) {
      this.setRange(this.bounds, true);
      return;
    }
    const range = drawnRanges(this.fg);
    if (range) this.setRange(range, true);
  }

  async setRange(range, notify) {
    if (!range) return;
    this.range = { x: [...range.x], y: [...range.y] };
    this.syncing = true;
    try {
      const update = {
        "xaxis.range": [...range.x],
        "yaxis.range": [...range.y],
        "xaxis.autorange": false,
        "yaxis.autorange": false,
      };
      await Promise.all([Plotly.relayout(this.fg, update), Plotly.relayout(this.bg, update)]);
      if (this.dots) drawDots(this.dotLayer, this.fg, this.dots, this.box);
      if (this.arrowSpec) this.drawArrows(this.arrowSpec);
      // Contour levels follow what is visible (and a finer grid if the zoom needs one).
      await this.redrawBackground();
    } finally {
      this.syncing = false;
    }
    if (notify && this.onRange) this.onRange(this.range, this);
  }

  destroy() {
    Plotly.purge(this.bg);
    Plotly.purge(this.fg);
    this.el.remove();
  }
}

/** The part of the scene's arrows (inside.js arrowSpec) that belongs to `runs`. */
function arrowsOf(spec, runs) {
  if (!spec) return null;
  const names = new Set(runs.map((r) => r.optimizer));
  return { ...spec, items: spec.items.filter((a) => names.has(a.optimizer)) };
}

/** Minima and the start: points a head marker must not cover. */
function obstaclesOf(meta, start, runs) {
  const mark = [start[0], start[1]];
  mark.label = startLabelPosition(runs, start).split(" ")[0]; // "top" | "bottom"
  return [...meta.minima.map((m) => [m.x, m.y]), mark];
}

/** The main view: overlay contour, side-by-side panels or the 3-D surface. */
export class MainView {
  constructor(el, { onStart, t, colors, loadWindow }) {
    this.el = el;
    this.onStart = onStart;
    this.t = t;
    this.colors = colors; // palette, start/minimum colours, colorscale (/api/settings)
    this.loadWindow = loadWindow; // (landscape, range) => Promise<grid>
    this.overlay = null;
    this.panels = [];
    this.panelKey = null;
    this.surface = null;
    this.layout = null;
  }

  clear() {
    if (this.overlay) this.overlay.destroy();
    for (const p of this.panels) p.destroy();
    if (this.surface) {
      Plotly.purge(this.surface.plot);
      this.surface.plot.remove();
      this.surface.legend.remove();
    }
    this.overlay = null;
    this.panels = [];
    this.panelKey = null;
    this.surface = null;
    this.el.replaceChildren();
  }

  /**
   * scene: {grid, gridKey, meta, start, runs, steps, cursor, mode, view, presentation}.
   * Resolves once every chart of the view has been redrawn.
   */
  async render(scene) {
    const th = theme(scene.presentation);
    const layout = scene.view === "surface" && scene.mode === "overlay" ? "surface" : scene.mode;
    if (layout !== this.layout) {
      this.clear();
      this.layout = layout;
      this.el.dataset.layout = layout;
    }
    if (layout === "surface") return this.renderSurface(scene, th);
    if (layout === "side_by_side") return this.renderSide(scene, th);
    return this.renderOverlay(scene, th);
  }

  /** Redraw only the arrows (no Plotly): the step-by-step animation, frame by frame. */
  redrawArrows(spec) {
    const plots = this.overlay ? [this.overlay] : this.panels;
    for (const p of plots) {
      const runs = p === this.overlay ? null : [{ optimizer: p.optimizer }];
      p.drawArrows(runs ? arrowsOf(spec, runs) : spec);
    }
  }

  windowLoader(scene) {
    return this.loadWindow ? (range) => this.loadWindow(scene.gridKey, range) : null;
  }

  async renderOverlay(scene, th) {
    if (!this.overlay) {
      const cell = document.createElement("div");
      cell.className = "cell cell-overlay";
      this.el.append(cell);
      this.overlay = new LayeredPlot(cell, {
        onStart: this.onStart,
        colors: this.colors,
        loadWindow: this.windowLoader(scene),
      });
    }
    const p = this.overlay;
    p.setBounds(scene.meta.bounds);
    p.setLegend(scene.runs, th);
    const obstacles = obstaclesOf(scene.meta, scene.start, scene.runs);
    const paths = pathTraces(
      scene.runs,
      scene.cursor,
      th,
      this.t,
      p.view(th, obstacles, scene.steps),
    );
    paths.traces.unshift(
      ...markTraces(scene.meta, scene.start, th, this.t, this.colors, scene.runs),
    );
    await Promise.all([
      p.background(scene.grid, th, this.t, scene.gridKey),
      p.paths(paths, th, arrowsOf(scene.arrows, scene.runs)),
    ]);
  }

  async renderSide(scene, th) {
    const key = scene.runs.map((r) => `${r.optimizer}:${r.symbol}:${r.dash}`).join(",");
    if (key !== this.panelKey) {
      for (const p of this.panels) p.destroy();
      this.panels = [];
      this.panelKey = key;
      const n = Math.max(1, scene.runs.length);
      const cols = n <= 3 ? n : n === 4 ? 2 : 3;
      this.el.style.setProperty("--cols", cols);
      this.el.style.setProperty("--rows", Math.ceil(n / cols));
      for (const run of scene.runs) {
        const cell = document.createElement("div");
        cell.className = "cell cell-panel";
        const label = document.createElement("div");
        label.className = "panel-label";
        label.innerHTML = `${runKey(run, 12)}<span class="name"></span>`;
        label.querySelector(".name").textContent = run.title;
        const plot = document.createElement("div");
        plot.className = "panel-plot";
        cell.append(label, plot);
        this.el.append(cell);
        const panel = new LayeredPlot(plot, {
          compact: true,
          colors: this.colors,
          onStart: this.onStart,
          loadWindow: this.windowLoader(scene),
          onRange: (range, source) => {
            for (const other of this.panels) if (other !== source) other.setRange(range, false);
          },
        });
        panel.cell = cell;
        panel.optimizer = run.optimizer;
        this.panels.push(panel);
      }
    }
    await Promise.all(
      this.panels.map((p, i) => {
        p.setBounds(scene.meta.bounds);
        const run = scene.runs[i];
        const obstacles = obstaclesOf(scene.meta, scene.start, [run]);
        const paths = pathTraces(
          [run],
          scene.cursor,
          th,
          this.t,
          p.view(th, obstacles, scene.steps),
        );
        paths.traces.unshift(
          ...markTraces(scene.meta, scene.start, th, this.t, this.colors, [run]),
        );
        return Promise.all([
          p.background(scene.grid, th, this.t, scene.gridKey),
          p.paths(paths, th, arrowsOf(scene.arrows, [run])),
        ]);
      }),
    );
  }

  async renderSurface(scene, th) {
    if (!this.surface) {
      // The chart is the cell; the legend sits below it, and the cell ends above the legend.
      const plot = document.createElement("div");
      plot.className = "cell cell-surface";
      const legend = document.createElement("div");
      legend.className = "plot-legend";
      legend.dataset.testid = "plot-legend";
      this.el.append(plot, legend);
      this.surface = { plot, legend, ready: false };
    }
    const { plot, legend } = this.surface;
    plot.style.bottom = `${renderLegend(legend, scene.runs, th)}px`;
    const { grid } = scene;
    const own = landscapeRange(grid);
    // Height follows the colour: log10(f − min f + eps) where the range is wide.
    const zmin = own.min;
    let eps = 0;
    if (grid.log_color) {
      // The colour at the grid's lowest point is log10(eps): recover eps from it.
      eps = 10 ** own.cmin;
    }
    const span = own.cmax - own.cmin || 1;
    // Paths float a little above the surface so the ripples they sit in don't hide them.
    const lift = 0.02 * span;
    const height = (f) => lift + (grid.log_color ? Math.log10(Math.max(f - zmin, 0) + eps) : f);
    // The z axis spans the surface and the paths, but no further than half the surface's
    // own height beyond it: a runaway run is clipped at the edge and marked off scale.
    const band = { lo: own.cmin - 0.5 * span, hi: own.cmax + lift + 0.5 * span };
    const traces = [
      {
        type: "surface",
        x: grid.x,
        y: grid.y,
        z: grid.color,
        colorscale: this.colors.colorscale,
        showscale: false,
        opacity: 0.92,
        hoverinfo: "skip",
        contours: { z: { show: false } },
      },
    ];
    const heads = { x: [], y: [], z: [], color: [] };
    const offs = { x: [], y: [], z: [], color: [] };
    const notes = [];
    const drawnZ = [];
    for (const run of scene.runs) {
      const n = Math.min(run.n, scene.cursor + 1);
      if (n <= 0) continue;
      const raw = Array.from(run.losses.subarray(0, n), height);
      const { values: z, off } = clipSeries(raw, n, band.lo, band.hi);
      drawnZ.push(z);
      traces.push({
        type: "scatter3d",
        mode: "lines",
        x: Array.from(run.xs.subarray(0, n)),
        y: Array.from(run.ys.subarray(0, n)),
        z: Array.from(z),
        line: { color: run.color, width: th.line * 2, dash: run.dash || "solid" },
        name: run.title,
        showlegend: false,
        hovertemplate: `<b>${run.title}</b><br>(%{x:.4g}, %{y:.4g})<extra></extra>`,
      });
      if (off) {
        offs.x.push(run.xs[off.step]);
        offs.y.push(run.ys[off.step]);
        offs.z.push(z[off.step]);
        offs.color.push(run.color);
        const edge = off.side === "below" ? band.lo : band.hi;
        const f = grid.log_color ? zmin + 10 ** (edge - lift) - eps : edge - lift;
        notes.push(
          this.t(off.side === "below" ? "plot.offScaleBelow" : "plot.offScaleAbove", {
            name: run.title,
            value: shortNumber(f),
            step: off.step,
          }),
        );
        continue;
      }
      heads.x.push(run.xs[n - 1]);
      heads.y.push(run.ys[n - 1]);
      heads.z.push(z[n - 1]);
      heads.color.push(run.color);
    }
    traces.push({
      type: "scatter3d",
      mode: "markers",
      x: heads.x,
      y: heads.y,
      z: heads.z,
      name: "heads",
      marker: { size: th.head / 2, color: heads.color, line: { color: "#000", width: 1 } },
      hoverinfo: "skip",
      showlegend: false,
    });
    traces.push({
      type: "scatter3d",
      mode: "markers",
      x: offs.x,
      y: offs.y,
      z: offs.z,
      name: "off-scale",
      marker: { size: th.head / 1.5, symbol: "diamond", color: offs.color },
      hoverinfo: "skip",
      showlegend: false,
    });
    const seen = extent([[own.cmin, own.cmax + lift], ...drawnZ]);
    const pad = 0.04 * (seen.hi - seen.lo || 1);
    const axisStyle = { color: th.text, gridcolor: th.grid, backgroundcolor: th.paper };
    const layout = {
      margin: { l: 0, r: 0, t: 0, b: 0 },
      paper_bgcolor: th.paper,
      font: { family: FONT, size: th.font, color: th.text },
      showlegend: false,
      uirevision: scene.meta.name,
      annotations: notes.length ? [cornerNote(notes, th, "off-scale-note")] : [],
      scene: {
        xaxis: { ...axisStyle, title: { text: "x" }, range: scene.meta.bounds[0] },
        yaxis: { ...axisStyle, title: { text: "y" }, range: scene.meta.bounds[1] },
        zaxis: {
          ...axisStyle,
          title: { text: grid.log_color ? "log f" : "f" },
          range: [seen.lo - pad, seen.hi + pad],
          autorange: false,
        },
        aspectmode: "manual",
        aspectratio: { x: 1, y: 1, z: 0.6 },
      },
    };
    await Plotly.react(plot, traces, layout, { displaylogo: false, responsive: true });
    if (!this.surface.ready) {
      this.surface.ready = true;
      plot.on("plotly_click", (ev) => {
        const pt = ev.points?.[0];
        if (pt && pt.data.type === "surface") this.onStart([pt.x, pt.y]);
      });
    }
  }
}

/** Only powers of ten on a log axis spanning decades; Plotly's 2-5 minor labels clutter it. */
export function logAxisTicks(lo, hi, room = Infinity) {
  const decades = Math.log10(hi / lo);
  if (decades >= 3) return { dtick: Math.max(1, Math.ceil(decades / Math.min(6, room))) };
  // Under three decades powers of ten alone may be a single label (Rastrigin's gaps of 2
  // and 25 under one "10"): label 1-3 or 1-2-5 steps, finer ones on a narrower range —
  // and coarser ones where a short chart has `room` for fewer labels.
  const choices = [[1, 1.5, 2, 3, 5, 7], [1, 2, 5], [1, 3], [1]];
  let start = decades >= 1.5 ? 2 : decades >= 0.7 ? 1 : 0;
  let tickvals = [];
  for (; start < choices.length; start += 1) {
    tickvals = [];
    for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k += 1) {
      for (const m of choices[start]) {
        const v = m * 10 ** k;
        if (v >= lo && v <= hi) tickvals.push(v);
      }
    }
    if (tickvals.length <= room) break;
  }
  if (tickvals.length < 2) return {};
  return { tickvals, ticktext: tickvals.map((v) => shortNumber(Number(v.toPrecision(2)))) };
}

let measurer = null;

/** The largest type size from `size` down to 9 px at which every line fits `width` pixels. */
function fittingSize(lines, size, width) {
  if (!lines.length || !(width > 0)) return size;
  measurer ??= document.createElement("canvas").getContext("2d");
  let s = size;
  for (; s > 9; s -= 1) {
    measurer.font = `${s}px ${FONT}`;
    if (Math.max(...lines.map((line) => measurer.measureText(line).width)) <= width) break;
  }
  return s;
}

/** Notes on runs that left the view, in a box at the bottom-left corner of the plot. */
function cornerNote(notes, th, name) {
  return {
    xref: "paper",
    yref: "paper",
    x: 0.01,
    y: 0.01,
    xanchor: "left",
    yanchor: "bottom",
    align: "left",
    showarrow: false,
    text: notes.join("<br>"),
    font: { size: Math.max(11, th.font - 1), color: th.text },
    bgcolor: th.legendBg,
    name,
  };
}

/** One run's values per step as a line of its colour, for the loss and ηₜ charts. */
export function stepTrace(run, y, th, t, value) {
  return {
    type: "scatter",
    mode: "lines",
    y,
    x0: 0,
    dx: 1,
    name: run.title,
    line: { color: run.color, width: th.line * 0.8, dash: run.dash || "solid" },
    hovertemplate: `<b>${run.title}</b> ${t("plot.step")} %{x}: ${value}<extra></extra>`,
  };
}

/** The margins of the small step charts (ηₜ, the effective learning rates). */
export function stepChartMargin(th) {
  return {
    l: th.presentation ? 70 : 58,
    r: 12,
    t: th.presentation ? 32 : 24,
    b: th.presentation ? 40 : 30,
  };
}

/** What the loss chart and the ηₜ chart share: colours, type, the title at the top left and
 * the step axis. */
export function stepChartFrame(th, title, steps, t) {
  return {
    paper_bgcolor: th.paper,
    plot_bgcolor: th.paper,
    font: { family: FONT, size: th.font - 1, color: th.text },
    title: {
      text: title,
      font: { size: th.font },
      x: 0.02,
      xanchor: "left",
      y: 0.97,
      yanchor: "top",
    },
    showlegend: false,
    xaxis: {
      range: [0, steps],
      title: { text: t("plot.step"), standoff: 4 },
      gridcolor: th.grid,
      zeroline: false,
    },
  };
}

/** A chart of values per step with a playback cursor: the loss chart and the ηₜ chart. */
export class StepChart {
  /** Draw (no modebar: nothing to zoom) and put the cursor at `cursor`. */
  async draw(traces, layout, steps, cursor) {
    await Plotly.react(this.chart, traces, layout, {
      displaylogo: false,
      responsive: true,
      displayModeBar: false,
    });
    this.steps = steps;
    this.moveCursor(cursor);
  }

  constructor(el, cursorClass = "loss-cursor") {
    this.el = el;
    this.chart = document.createElement("div");
    this.chart.className = "loss-chart";
    this.cursor = document.createElement("div");
    this.cursor.className = cursorClass;
    if (cursorClass !== "loss-cursor") {
      // Drawn like the loss cursor (app.css), in the text colour of the page's theme.
      Object.assign(this.cursor.style, {
        position: "absolute",
        left: "0",
        top: "0",
        width: "0",
        height: "0",
        pointerEvents: "none",
        borderLeft: "2px dashed currentColor",
      });
    }
    el.append(this.chart, this.cursor);
    this.steps = 0;
  }

  /** Cheap: a CSS line, no Plotly redraw, so playback stays smooth. */
  moveCursor(cursor) {
    const area = plotArea(this.chart);
    if (!area) return;
    const x = area.xToPixel(Math.min(cursor, this.steps));
    this.cursor.style.transform = `translateX(${x}px)`;
    this.cursor.style.top = `${area.top}px`;
    this.cursor.style.height = `${area.height}px`;
    this.cursor.dataset.step = String(cursor);
  }
}

/**
 * Loss versus step: log f − f* where a minimum value is known, else linear f. The value axis
 * spans what the runs do within the landscape's own range (ranges.js); a run beyond it
 * ends at the edge with a triangle, runs on dotted along the edge, and a note says so.
 */
export class LossView extends StepChart {
  constructor(el, t) {
    super(el);
    this.t = t;
  }

  async render({ runs, steps, cursor, logScale, presentation, grid }) {
    const th = theme(presentation);
    const fstar = runs.length ? runs[0].fstar : null;
    const own = grid ? landscapeRange(grid) : null;
    const band = own ? lossBand(own, logScale ? fstar : null) : { lo: -Infinity, hi: Infinity };
    if (logScale) band.lo = 0;
    const traces = [];
    const marks = [];
    const notes = [];
    const drawn = [];
    for (const run of runs) {
      const values = head(run, "gap", run.n);
      const key = `${band.lo}|${band.hi}|${run.n}`;
      run.views ??= {};
      if (run.views.lossKey !== key) {
        run.views.lossKey = key;
        run.views.loss = clipSeries(values, run.n, band.lo, band.hi);
      }
      const { values: y, off } = run.views.loss;
      drawn.push(y);
      traces.push(stepTrace(run, y, th, this.t, "%{y:.4g}"));
      if (off) marks.push({ run, off, edge: y[off.step] });
    }
    // The value axis: what the runs show inside the band, and the landscape's own range.
    const seen = extent(drawn);
    let yRange;
    if (seen && !logScale) {
      const lo = own ? Math.min(seen.lo, own.min) : seen.lo;
      const hi = own ? Math.max(seen.hi, own.max) : seen.hi;
      const pad = 0.05 * (hi - lo || 1);
      yRange = [lo - pad, hi + pad];
    } else if (seen) {
      const lo = Math.max(seen.lo > 0 ? seen.lo : 1e-16, 1e-16);
      const hi = Math.max(seen.hi, lo * 10);
      yRange = [Math.log10(lo) - 0.1, Math.log10(hi) + 0.1];
    }
    for (const { run, off, edge } of marks) {
      const last = run.n - 1;
      // The run's marker at the step it left, on the edge; dotted along the edge after.
      traces.push({
        type: "scatter",
        mode: "lines+markers",
        x: [off.step, last],
        y: [edge, edge],
        name: `${run.title} off scale`,
        meta: { offScale: off.side, optimizer: run.optimizer, step: off.step },
        line: { color: run.color, width: th.line * 0.8, dash: "dot" },
        marker: {
          symbol: [off.side === "below" ? "triangle-down" : "triangle-up", "circle"],
          size: [th.head, 0],
          color: run.color,
          line: { color: th.text, width: 1 },
        },
        hoverinfo: "skip",
      });
      notes.push(
        // The short form: the chart is narrow, and its title already says what is drawn.
        this.t(off.side === "below" ? "loss.offBelow" : "loss.offAbove", {
          name: run.title,
          value: shortNumber(logScale ? edge + fstar : edge),
          step: off.step,
        }),
      );
    }
    // Notes go in the top margin, under the title, clear of the lines they explain, from
    // the chart's left edge; a type size that fits the chart's width (a Japanese note on a
    // 1024-wide projector is longer than the column).
    const left = th.presentation ? 70 : 58;
    const noteSize = fittingSize(notes, Math.max(10, th.font - 2), this.chart.clientWidth - 12);
    const notesHeight = notes.length * Math.round(noteSize * 1.35);
    const margin = {
      l: left,
      r: 12,
      t: (th.presentation ? 36 : 28) + notesHeight,
      b: th.presentation ? 44 : 34,
    };
    // Labels a short chart has room for, at about two lines of type apart.
    const room = Math.max(
      2,
      Math.floor((this.chart.clientHeight - margin.t - margin.b) / (th.font * 2)),
    );
    const layout = {
      margin,
      ...stepChartFrame(
        th,
        logScale ? this.t("loss.titleLog") : this.t("loss.title"),
        steps,
        this.t,
      ),
      yaxis: {
        type: logScale ? "log" : "linear",
        exponentformat: "power",
        gridcolor: th.grid,
        zeroline: !logScale,
        zerolinecolor: th.grid,
        ...(yRange ? { range: yRange, autorange: false } : {}),
        ...(logScale && yRange ? logAxisTicks(10 ** yRange[0], 10 ** yRange[1], room) : {}),
      },
      annotations: notes.length
        ? [
            {
              xref: "paper",
              yref: "paper",
              x: 0,
              xshift: 6 - left,
              y: 1,
              xanchor: "left",
              yanchor: "bottom",
              align: "left",
              showarrow: false,
              text: notes.join("<br>"),
              font: { size: noteSize, color: th.text },
              name: "off-scale-note",
            },
          ]
        : [],
      hovermode: "x",
    };
    await this.draw(traces, layout, steps, cursor);
  }
}
