// Views of the scene, all rendered from plain data (runs, grid, cursor, theme).
// The main contour is two stacked Plotly charts: a static background (the contour,
// redrawn only when the landscape or the size changes) and a transparent foreground
// with the paths, so a slider move redraws only the paths.
// Plotly's private internals are read only through plotly_adapter.js.
/* global Plotly */

import { dataAt, drawnRanges, plotArea } from "./plotly_adapter.js";

const FONT =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif';

export function theme(presentation) {
  return presentation
    ? {
        presentation: true,
        font: 18,
        text: "#ffffff",
        paper: "#000000",
        grid: "#444",
        line: 4.5,
        head: 17,
        minimum: 18,
        legendBg: "rgba(0,0,0,0.75)",
      }
    : {
        presentation: false,
        font: 12,
        text: "#1f2328",
        paper: "#ffffff",
        grid: "#e3e6ea",
        line: 2.5,
        head: 11,
        minimum: 14,
        legendBg: "rgba(255,255,255,0.85)",
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

function margins(compact, th, legendRows = 1) {
  if (compact) return { l: 34, r: 6, t: 6, b: 24, autoexpand: false };
  // The top margin holds the legend, in as many rows as its entries need.
  const row = Math.round(th.font * 1.6);
  return th.presentation
    ? { l: 64, r: 96, t: 18 + row * legendRows, b: 52, autoexpand: false }
    : { l: 52, r: 80, t: 14 + row * legendRows, b: 40, autoexpand: false };
}

/** Rows the horizontal legend needs at this width (Plotly wraps entries itself). */
function legendRows(runs, width, th) {
  let rows = 1;
  let used = 0;
  for (const run of runs) {
    const entry = 48 + 0.6 * th.font * run.title.length;
    if (used + entry > width && used > 0) {
      rows += 1;
      used = 0;
    }
    used += entry;
  }
  return rows;
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

function baseLayout(range, th, compact, visible, rows) {
  return {
    margin: margins(compact, th, rows),
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
function logTicks(grid) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of grid.color) {
    for (const v of row) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const first = Math.ceil(lo);
  const last = Math.floor(hi);
  const every = Math.max(1, Math.ceil((last - first + 1) / 7));
  const tickvals = [];
  const ticktext = [];
  for (let c = first; c <= last; c += every) {
    tickvals.push(c);
    ticktext.push(c === 0 ? "1" : c === 1 ? "10" : `1e${c}`);
  }
  return { tickvals, ticktext };
}

/** Fraction of the plot height the equal-scale contour fills (for the colour bar's length). */
function heightFraction(el, range, th, compact, rows) {
  const m = margins(compact, th, rows);
  const w = el.clientWidth - m.l - m.r;
  const h = el.clientHeight - m.t - m.b;
  if (w <= 0 || h <= 0) return 1;
  const aspect = (range.x[1] - range.x[0]) / (range.y[1] - range.y[0]);
  return Math.min(1, w / aspect / h);
}

function contourTrace(grid, th, compact, t, colors, fraction = 1) {
  const trace = {
    type: "contour",
    x: grid.x,
    y: grid.y,
    z: grid.color,
    colorscale: colors.colorscale,
    ncontours: compact ? 18 : 26,
    contours: { coloring: "fill", showlines: true },
    line: { width: 0.5, color: "rgba(255,255,255,0.35)", smoothing: 0.6 },
    hoverinfo: "skip",
    showscale: !compact,
  };
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
      ...(grid.log_color ? logTicks(grid) : {}),
    };
  }
  return trace;
}

/** Static marks of the scene: minima and the start point, in the palette's colours. */
export function markTraces(meta, start, th, t, colors) {
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
    textposition: "top center",
    textfont: {
      color: "#ffffff",
      size: th.font,
      weight: 700,
      shadow: "0 0 3px #000, 0 0 2px #000",
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

/** Path traces of the runs up to step `cursor` and one trace of their heads. */
export function pathTraces(runs, cursor, th, t, legend) {
  const traces = [];
  const heads = { x: [], y: [], color: [], symbol: [] };
  for (const run of runs) {
    const n = Math.min(run.n, cursor + 1);
    if (n <= 0) continue;
    traces.push({
      type: "scatter",
      mode: "lines",
      x: head(run, "xs", n),
      y: head(run, "ys", n),
      customdata: head(run, "losses", n),
      line: { color: run.color, width: th.line },
      name: run.title,
      showlegend: legend,
      hovertemplate:
        `<b>${run.title}</b><br>${t("plot.step")} %{pointNumber}<br>` +
        "(%{x:.4g}, %{y:.4g})<br>f = %{customdata:.4g}<extra></extra>",
    });
    const ended = run.diverged_at !== null && run.complete && cursor >= run.n;
    heads.x.push(run.xs[n - 1]);
    heads.y.push(run.ys[n - 1]);
    heads.color.push(run.color);
    heads.symbol.push(ended ? "x" : "circle");
  }
  traces.push({
    type: "scatter",
    mode: "markers",
    x: heads.x,
    y: heads.y,
    marker: {
      size: th.head,
      color: heads.color,
      symbol: heads.symbol,
      line: { color: "#000000", width: 1.5 },
    },
    hoverinfo: "skip",
    showlegend: false,
  });
  return traces;
}

class LayeredPlot {
  constructor(el, { compact = false, onStart, onRange, colors }) {
    this.el = el;
    this.compact = compact;
    this.colors = colors;
    this.onStart = onStart;
    this.onRange = onRange;
    el.classList.add("layered");
    this.bg = document.createElement("div");
    this.bg.className = "layer layer-bg";
    this.fg = document.createElement("div");
    this.fg.className = "layer layer-fg";
    el.append(this.bg, this.fg);
    this.bgKey = null;
    this.range = null;
    this.bounds = null;
    this.rows = 1;
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
    }
  }

  async background(grid, th, t, key) {
    const fraction = heightFraction(this.el, this.range, th, this.compact, this.rows);
    const fullKey = `${key}|${th.presentation}|${t("plot.colorLog")}|${fraction.toFixed(3)}|${this.rows}`;
    if (fullKey === this.bgKey) return;
    this.bgKey = fullKey;
    // newPlot, not react: the contour changes rarely and a diffed colour bar can end up
    // half-updated (NaN heights) when its title and ticks change together.
    await Plotly.newPlot(
      this.bg,
      [contourTrace(grid, th, this.compact, t, this.colors, fraction)],
      baseLayout(this.range, th, this.compact, true, this.rows),
      CONFIG_BG,
    );
  }

  async paths(traces, th) {
    const layout = baseLayout(this.range, th, this.compact, false, this.rows);
    layout.showlegend = !this.compact;
    layout.legend = {
      orientation: "h",
      x: 1,
      y: 1,
      xanchor: "right",
      yanchor: "bottom",
      bgcolor: "rgba(0,0,0,0)",
      font: { size: th.font, color: th.text },
    };
    await Plotly.react(this.fg, traces, layout, CONFIG_FG);
    if (!this.fgReady) {
      this.fgReady = true;
      this.fg.on("plotly_relayout", (ev) => this.relayouted(ev));
    }
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

/** The main view: overlay contour, side-by-side panels or the 3-D surface. */
export class MainView {
  constructor(el, { onStart, t, colors }) {
    this.el = el;
    this.onStart = onStart;
    this.t = t;
    this.colors = colors; // palette, start/minimum colours, colorscale (/api/settings)
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
      Plotly.purge(this.surface);
      this.surface.remove();
    }
    this.overlay = null;
    this.panels = [];
    this.panelKey = null;
    this.surface = null;
    this.el.replaceChildren();
  }

  /**
   * scene: {grid, gridKey, meta, start, runs, cursor, mode, view, presentation}.
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

  async renderOverlay(scene, th) {
    if (!this.overlay) {
      const cell = document.createElement("div");
      cell.className = "cell cell-overlay";
      this.el.append(cell);
      this.overlay = new LayeredPlot(cell, { onStart: this.onStart, colors: this.colors });
    }
    const p = this.overlay;
    p.setBounds(scene.meta.bounds);
    p.rows = legendRows(scene.runs, p.el.clientWidth - 60, th);
    const traces = [
      ...markTraces(scene.meta, scene.start, th, this.t, this.colors),
      ...pathTraces(scene.runs, scene.cursor, th, this.t, true),
    ];
    await Promise.all([p.background(scene.grid, th, this.t, scene.gridKey), p.paths(traces, th)]);
  }

  async renderSide(scene, th) {
    const key = scene.runs.map((r) => r.optimizer).join(",");
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
        label.innerHTML = '<span class="swatch"></span><span class="name"></span>';
        label.querySelector(".swatch").style.background = run.color;
        label.querySelector(".name").textContent = run.title;
        const plot = document.createElement("div");
        plot.className = "panel-plot";
        cell.append(label, plot);
        this.el.append(cell);
        const panel = new LayeredPlot(plot, {
          compact: true,
          colors: this.colors,
          onStart: this.onStart,
          onRange: (range, source) => {
            for (const other of this.panels) if (other !== source) other.setRange(range, false);
          },
        });
        panel.cell = cell;
        this.panels.push(panel);
      }
    }
    const marks = markTraces(scene.meta, scene.start, th, this.t, this.colors);
    await Promise.all(
      this.panels.map((p, i) => {
        p.setBounds(scene.meta.bounds);
        const traces = [...marks, ...pathTraces([scene.runs[i]], scene.cursor, th, this.t, false)];
        return Promise.all([
          p.background(scene.grid, th, this.t, scene.gridKey),
          p.paths(traces, th),
        ]);
      }),
    );
  }

  async renderSurface(scene, th) {
    if (!this.surface) {
      this.surface = document.createElement("div");
      this.surface.className = "cell cell-surface";
      this.el.append(this.surface);
      this.surfaceReady = false;
    }
    const { grid } = scene;
    // Height follows the colour: log10(f − min f + eps) where the range is wide.
    let zmin = Infinity;
    let argmin = [0, 0];
    grid.z.forEach((row, i) => {
      row.forEach((v, j) => {
        if (v < zmin) {
          zmin = v;
          argmin = [i, j];
        }
      });
    });
    const eps = grid.log_color ? 10 ** grid.color[argmin[0]][argmin[1]] : 0;
    // Paths float a little above the surface so the ripples they sit in don't hide them.
    let cmin = Infinity;
    let cmax = -Infinity;
    for (const row of grid.color)
      for (const v of row) {
        cmin = Math.min(cmin, v);
        cmax = Math.max(cmax, v);
      }
    const lift = 0.02 * (cmax - cmin);
    const height = (f) => lift + (grid.log_color ? Math.log10(Math.max(f - zmin, 0) + eps) : f);
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
    for (const run of scene.runs) {
      const n = Math.min(run.n, scene.cursor + 1);
      if (n <= 0) continue;
      const z = Array.from(run.losses.subarray(0, n), height);
      traces.push({
        type: "scatter3d",
        mode: "lines",
        x: Array.from(run.xs.subarray(0, n)),
        y: Array.from(run.ys.subarray(0, n)),
        z,
        line: { color: run.color, width: th.line * 2 },
        name: run.title,
        hovertemplate: `<b>${run.title}</b><br>(%{x:.4g}, %{y:.4g})<extra></extra>`,
      });
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
      marker: { size: th.head / 2, color: heads.color, line: { color: "#000", width: 1 } },
      hoverinfo: "skip",
      showlegend: false,
    });
    const axisStyle = { color: th.text, gridcolor: th.grid, backgroundcolor: th.paper };
    const layout = {
      margin: { l: 0, r: 0, t: 0, b: 0 },
      paper_bgcolor: th.paper,
      font: { family: FONT, size: th.font, color: th.text },
      showlegend: true,
      legend: { x: 0.01, y: 0.99, bgcolor: th.legendBg },
      uirevision: scene.meta.name,
      scene: {
        xaxis: { ...axisStyle, title: { text: "x" }, range: scene.meta.bounds[0] },
        yaxis: { ...axisStyle, title: { text: "y" }, range: scene.meta.bounds[1] },
        zaxis: { ...axisStyle, title: { text: grid.log_color ? "log f" : "f" } },
        aspectmode: "manual",
        aspectratio: { x: 1, y: 1, z: 0.6 },
      },
    };
    await Plotly.react(this.surface, traces, layout, { displaylogo: false, responsive: true });
    if (!this.surfaceReady) {
      this.surfaceReady = true;
      this.surface.on("plotly_click", (ev) => {
        const pt = ev.points?.[0];
        if (pt && pt.data.type === "surface") this.onStart([pt.x, pt.y]);
      });
    }
  }
}

/** Only powers of ten on a log axis spanning decades; Plotly's 2-5 minor labels clutter it. */
function logAxisTicks(runs) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const run of runs) {
    for (let i = 0; i < run.n; i += 1) {
      const v = run.gap[i];
      if (v > 0 && v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const decades = Math.log10(hi / lo);
  return decades >= 1.5 ? { dtick: Math.max(1, Math.ceil(decades / 6)) } : {};
}

/** Loss versus step (log y where a minimum value is known), with the playback cursor. */
export class LossView {
  constructor(el, t) {
    this.el = el;
    this.t = t;
    this.chart = document.createElement("div");
    this.chart.className = "loss-chart";
    this.cursor = document.createElement("div");
    this.cursor.className = "loss-cursor";
    el.append(this.chart, this.cursor);
  }

  async render({ runs, steps, cursor, logScale, presentation }) {
    const th = theme(presentation);
    const traces = runs.map((run) => ({
      type: "scatter",
      mode: "lines",
      y: head(run, "gap", run.n),
      x0: 0,
      dx: 1,
      name: run.title,
      line: { color: run.color, width: th.line * 0.8 },
      hovertemplate: `<b>${run.title}</b> ${this.t("plot.step")} %{x}: %{y:.4g}<extra></extra>`,
    }));
    const layout = {
      margin: {
        l: th.presentation ? 70 : 58,
        r: 12,
        t: th.presentation ? 36 : 28,
        b: th.presentation ? 44 : 34,
      },
      paper_bgcolor: th.paper,
      plot_bgcolor: th.paper,
      font: { family: FONT, size: th.font - 1, color: th.text },
      title: {
        text: logScale ? this.t("loss.titleLog") : this.t("loss.title"),
        font: { size: th.font },
        x: 0.02,
        xanchor: "left",
        y: 0.97,
        yanchor: "top",
      },
      showlegend: false,
      xaxis: {
        range: [0, steps],
        title: { text: this.t("plot.step"), standoff: 4 },
        gridcolor: th.grid,
        zeroline: false,
      },
      yaxis: {
        type: logScale ? "log" : "linear",
        exponentformat: "power",
        gridcolor: th.grid,
        zeroline: false,
        ...(logScale ? logAxisTicks(runs) : {}),
      },
      hovermode: "x",
    };
    await Plotly.react(this.chart, traces, layout, {
      displaylogo: false,
      responsive: true,
      displayModeBar: false,
    });
    this.steps = steps;
    this.moveCursor(cursor);
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
