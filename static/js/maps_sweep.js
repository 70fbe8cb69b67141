// The learning-rate sweep (Maps, issue 13): every enabled optimizer from the current start,
// at 64 log-spaced learning rates over five decades (POST /api/maps/sweep), drawn as two
// charts sharing the lr axis — the final loss gap f − f* (log) and the steps to settle —
// over a strip that marks, per optimizer, the learning rates that diverged and the measured
// boundary. Where the Hessian is constant (a quadratic bowl) the theoretical stability
// limits the server derives from its eigenvalues (2/λmax for SGD, 2(1 + μ)/λmax for
// heavy-ball momentum) are dashed vertical lines with their formulas. A click on a point
// sets that optimizer's lr to it and shows the race. Follows the sliders live: requests
// are debounced, one in flight, the latest wins.
//
// A panel (maps.js mounts it): new SweepPanel(root, ctx); update(changed) when the scene
// changed (changed: a Set of state keys, or null for "everything"); resize().

import { exportButtons, fmt, GAP_FLOOR, MapPanel, maxSteps, middle, round3 } from "./maps_panel.js";
import { FONT, powerOfTen, theme } from "./plot.js";

const LR = { min: 1e-4, max: 10, count: 64 };
// The keys whose change needs a new sweep; lang and presentation only redraw (and params
// only when more than a learning rate changed: the sweep sets every lr itself).
const FETCH_KEYS = [
  "landscape",
  "expr",
  "bounds",
  "start",
  "steps",
  "noise",
  "seed",
  "schedule",
  "optimizers",
];

/** The gap curve's height at `lr` (log-log between the swept neighbours), or null where a
 * neighbour diverged or `lr` is outside the sweep. */
function gapAt(lrs, gaps, lr) {
  const k = lrs.findIndex((v) => v >= lr);
  if (k < 0) return null;
  if (k === 0) return lr === lrs[0] ? gaps[0] : null;
  const [a, b] = [gaps[k - 1], gaps[k]];
  if (a === null || b === null) return null;
  const u = Math.log(lr / lrs[k - 1]) / Math.log(lrs[k] / lrs[k - 1]);
  return 10 ** ((1 - u) * Math.log10(a) + u * Math.log10(b));
}

/** 10⁻⁴ for 1e-4 (the axis's own labels), other values as fmt writes them. */
function decade(v) {
  const k = Math.round(Math.log10(v));
  return Math.abs(10 ** k - v) <= 1e-9 * v ? powerOfTen(k) : fmt(v);
}

export class SweepPanel extends MapPanel {
  constructor(root, ctx) {
    super(root, ctx, "sweep");
    this.legend = document.createElement("div");
    this.legend.className = "maps-key";
    this.legend.dataset.testid = "sweep-key";
    const files = exportButtons(
      ctx,
      "sweep",
      () => this.body(),
      (text) => this.show(text),
    );
    root.append(files, this.caption, this.legend, this.chart, this.message);
  }

  /** The scene changed: fetch a new sweep (debounced) or only redraw. */
  update(changed = null) {
    const params = changed?.has("params") && this.key !== JSON.stringify(this.body());
    if (!changed || params || FETCH_KEYS.some((k) => changed.has(k))) this.schedule();
    else if (this.last) this.draw(); // the language, presentation mode, or only an lr
  }

  /** The request for the current scene; every run's lr is the sweep's, so it is left out. */
  body() {
    return {
      ...this.sceneFields(),
      runs: this.ctx.apiRuns().map(({ optimizer, params }) => {
        const { lr: _lr, ...rest } = params;
        return { optimizer, params: rest };
      }),
      lr: { ...LR },
    };
  }

  async request() {
    const body = this.body();
    if (!body.runs.length) return { message: this.ctx.t("maps.sweep.none") };
    return { path: "/api/maps/sweep", body };
  }

  async draw() {
    const answer = this.last;
    if (!answer) return;
    const { t } = this.ctx;
    const scene = this.ctx.request();
    const th = theme(this.ctx.presentation());
    const look = new Map(scene.runs.map((r) => [r.optimizer, r]));
    const runs = answer.runs.map((run) => ({
      ...run,
      color: look.get(run.optimizer)?.color ?? this.ctx.colors.palette[0],
      label: look.get(run.optimizer)?.label ?? this.ctx.optimizer(run.optimizer)?.title,
      current: look.get(run.optimizer)?.params?.lr ?? null,
    }));
    const steps = Math.min(scene.steps, maxSteps());
    this.caption.textContent = this.captionText(answer, steps, scene.steps);
    this.drawKey(
      runs,
      runs.some((r) => r.boundary?.diverged),
      runs.some((r) => r.limit),
    );

    // Pixel plan: legend on top, the diverged strip (a row per optimizer), the gap chart,
    // the settle chart; the x axis (lr) under the settle chart.
    const H = Math.max(200, this.chart.clientHeight);
    const margin = {
      l: th.presentation ? 86 : 66,
      r: th.presentation ? 24 : 16,
      t: th.presentation ? 8 : 6,
      b: th.presentation ? 66 : 48,
    };
    const P = Math.max(100, H - margin.t - margin.b);
    const row = th.presentation ? 20 : 15;
    const strip = runs.length * row + 4;
    const titleRoom = th.presentation ? 34 : 24; // each chart's title sits above it
    const charts = P - strip - 2 * titleRoom;
    const settleH = Math.max(40, 0.42 * charts);
    const f = (px) => px / P;
    const settleTop = f(settleH);
    const gapBottom = settleTop + f(titleRoom);
    const gapTop = 1 - f(strip) - f(titleRoom);
    const stripBottom = 1 - f(strip);

    const traces = [];
    const shapes = [];
    const annotations = [];
    const xRange = [Math.log10(answer.lrs[0]) - 0.05, Math.log10(answer.lrs.at(-1)) + 0.05];
    const value = (v) => (v === null || v === undefined ? null : v);
    runs.forEach((run, i) => {
      const gap = run.gap.map((g) => (g === null ? null : Math.max(g, GAP_FLOOR)));
      const settled = run.settled_at.map((s) => (s >= 0 ? s : null));
      const custom = answer.lrs.map((_, k) => [
        value(run.final_loss[k]),
        run.settled_at[k] >= 0 ? String(run.settled_at[k]) : t("maps.sweep.never"),
      ]);
      const common = {
        type: "scatter",
        mode: "lines+markers",
        x: answer.lrs,
        legendgroup: run.optimizer,
        line: { color: run.color, width: th.line * 0.7 },
        marker: { color: run.color, size: th.presentation ? 7 : 5 },
        connectgaps: false,
        customdata: custom,
      };
      traces.push({
        ...common,
        y: gap,
        name: run.label,
        yaxis: "y",
        meta: { optimizer: run.optimizer, kind: "gap" },
        hovertemplate:
          `<b>${run.label}</b><br>η = %{x:.3g}<br>f − f* = %{y:.3g}` +
          `<br>${t("maps.sweep.settle")}: %{customdata[1]}<extra></extra>`,
      });
      traces.push({
        ...common,
        y: settled,
        name: run.label,
        yaxis: "y2",
        showlegend: false,
        meta: { optimizer: run.optimizer, kind: "settle" },
        hovertemplate:
          `<b>${run.label}</b><br>η = %{x:.3g}<br>${t("maps.sweep.settle")}: %{y}` +
          "<extra></extra>",
      });
      // The strip: a × at every lr that diverged, the region past the boundary shaded.
      const xs = [];
      const at = [];
      run.diverged_at.forEach((d, k) => {
        if (d >= 0) {
          xs.push(answer.lrs[k]);
          at.push(d);
        }
      });
      traces.push({
        type: "scatter",
        mode: "markers",
        x: xs,
        y: xs.map(() => run.label),
        yaxis: "y3",
        legendgroup: run.optimizer,
        showlegend: false,
        customdata: at,
        meta: { optimizer: run.optimizer, kind: "diverged" },
        marker: {
          symbol: "x-thin",
          size: th.presentation ? 11 : 8,
          line: { color: run.color, width: 2 },
        },
        hovertemplate:
          `<b>${run.label}</b><br>η = %{x:.3g}<br>` +
          `${t("maps.sweep.divergedAt", { step: "%{customdata}" })}<extra></extra>`,
      });
      // Where the race runs now: a tick on the strip, a ring on the gap curve.
      const now = run.current;
      if (now > 0) {
        const mark = (y, yaxis, symbol, width) => ({
          type: "scatter",
          mode: "markers",
          x: [now],
          y: [y],
          yaxis,
          showlegend: false,
          meta: { optimizer: run.optimizer, kind: "current" },
          marker: {
            symbol,
            size: th.presentation ? 18 : 13,
            color: run.color,
            line: { color: run.color, width },
          },
          hovertemplate: `<b>${run.label}</b><br>${t("maps.sweep.current")}: η = ${fmt(now)}<extra></extra>`,
        });
        traces.push(mark(run.label, "y3", "line-ns-open", th.presentation ? 4 : 3));
        const ring = gapAt(answer.lrs, gap, now);
        if (ring !== null) traces.push(mark(ring, "y", "circle-open", th.presentation ? 3.5 : 2.5));
      }
      const b = run.boundary ?? {};
      if (b.diverged !== null && b.diverged !== undefined) {
        const edge = b.stable ? Math.sqrt(b.stable * b.diverged) : b.diverged;
        const rowIndex = runs.length - 1 - i; // categories run bottom-up
        shapes.push({
          type: "rect",
          xref: "x",
          yref: "y3",
          x0: edge,
          x1: 10 ** xRange[1],
          y0: rowIndex - 0.38,
          y1: rowIndex + 0.38,
          fillcolor: run.color,
          opacity: 0.28,
          line: { width: 0 },
          layer: "below",
          name: `boundary-${run.optimizer}`,
        });
        shapes.push({
          type: "line",
          xref: "x",
          yref: "paper",
          x0: edge,
          x1: edge,
          y0: 0,
          y1: stripBottom,
          line: { color: run.color, width: 1.5, dash: "dot" },
          name: `measured-${run.optimizer}`,
        });
      }
    });
    // Theoretical limits (a constant Hessian only): dashed, labelled with their formula.
    const limits = runs.filter((r) => r.limit !== null && r.limit !== undefined);
    limits.forEach((run, k) => {
      shapes.push({
        type: "line",
        xref: "x",
        yref: "paper",
        x0: run.limit,
        x1: run.limit,
        y0: 0,
        y1: gapTop,
        line: { color: run.color, width: th.presentation ? 3 : 2, dash: "dash" },
        name: `limit-${run.optimizer}`,
      });
      annotations.push({
        xref: "x",
        yref: "paper",
        x: Math.log10(run.limit),
        y: gapTop,
        xanchor: "right",
        yanchor: "top",
        xshift: -3,
        yshift: -k * (th.font + 6),
        showarrow: false,
        align: "right",
        text: `${run.limit_formula ?? ""} = ${fmt(run.limit)}`,
        font: { size: th.font - 1, color: run.color },
        bgcolor: th.legendBg,
        name: `limit-${run.optimizer}`,
      });
    });
    // Each chart's title, at its top left; the strip's at its left.
    const title = (text, y) => ({
      xref: "paper",
      yref: "paper",
      x: 0,
      y,
      xanchor: "left",
      yanchor: "bottom",
      yshift: 2,
      showarrow: false,
      text,
      font: { size: th.font, color: th.text },
    });
    annotations.push(
      title(
        `${t("maps.sweep.gap")} <span style="font-size:0.85em">(${t("maps.log")})</span>`,
        gapTop,
      ),
      title(t("maps.sweep.settle"), settleTop),
    );
    if (runs.every((r) => r.settled_at.every((v) => v < 0))) {
      annotations.push(middle(t("maps.sweep.noneSettled", { steps }), settleTop / 2, th));
    }

    const axis = {
      gridcolor: th.grid,
      zeroline: false,
      linecolor: th.grid,
      automargin: true,
    };
    const layout = {
      paper_bgcolor: th.paper,
      plot_bgcolor: th.paper,
      font: { family: FONT, size: th.font - 1, color: th.text },
      margin,
      hovermode: "closest",
      dragmode: false,
      showlegend: false,
      xaxis: {
        ...axis,
        type: "log",
        range: xRange,
        anchor: "y2",
        dtick: 1,
        exponentformat: "power",
        title: { text: t("maps.sweep.lr"), standoff: 6 },
      },
      yaxis: {
        ...axis,
        type: "log",
        domain: [gapBottom, gapTop],
        exponentformat: "power",
        title: { text: "f − f*", standoff: 4 },
      },
      yaxis2: {
        ...axis,
        domain: [0, settleTop],
        rangemode: "tozero",
        range: [0, steps * 1.04],
        title: { text: t("maps.sweep.stepsShort"), standoff: 4 },
      },
      yaxis3: {
        ...axis,
        domain: [stripBottom, 1],
        type: "category",
        categoryorder: "array",
        categoryarray: runs.map((r) => r.label).reverse(),
        range: [-0.5, runs.length - 0.5],
        // each row's name in its optimizer's colour: the strip is the legend
        tickmode: "array",
        tickvals: runs.map((r) => r.label),
        ticktext: runs.map((r) => `<span style="color:${r.color}">${r.label}</span>`),
        showgrid: false,
        tickfont: { size: th.presentation ? th.font - 4 : th.font - 2 },
        title: { text: "" },
      },
      shapes,
      annotations,
    };
    await this.react(traces, layout);
  }

  /** The key over the charts: each optimizer's colour, then what the marks mean. */
  drawKey(runs, boundary, limit) {
    const { t } = this.ctx;
    const item = (mark, text, color = null) => {
      const span = document.createElement("span");
      span.className = "maps-key-item";
      const m = document.createElement("span");
      m.className = `maps-key-mark ${mark}`;
      if (color) m.style.setProperty("--key-color", color);
      span.append(m, document.createTextNode(text));
      return span;
    };
    const items = runs.map((r) => item("line", r.label, r.color));
    items.push(item("ring", t("maps.sweep.current")));
    items.push(item("cross", t("maps.sweep.diverged")));
    if (boundary) items.push(item("dotted", t("maps.sweep.measured")));
    if (limit) items.push(item("dashed", t("maps.sweep.limit")));
    this.legend.replaceChildren(...items);
  }

  captionText(answer, steps, wanted) {
    const { t } = this.ctx;
    const lrs = answer.lrs;
    const parts = [
      t("maps.sweep.caption", {
        count: lrs.length,
        min: decade(lrs[0]),
        max: decade(lrs.at(-1)),
        steps,
      }),
    ];
    if (wanted > steps) parts.push(t("maps.stepsCapped", { steps: maxSteps() }));
    const h = answer.hessian;
    if (h?.constant && h.eigenvalues) {
      parts.push(t("maps.sweep.hessian", { lo: fmt(h.eigenvalues[0]), hi: fmt(h.eigenvalues[1]) }));
    }
    parts.push(t("maps.sweep.click"));
    return this.sentences(parts);
  }

  clicked(event) {
    const point = event?.points?.[0];
    const meta = point?.data?.meta;
    if (!meta?.optimizer || !(point.x > 0)) return;
    this.ctx.setParams(meta.optimizer, { lr: round3(Number(point.x)) });
  }
}
