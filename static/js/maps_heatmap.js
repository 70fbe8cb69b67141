// The (lr, momentum) heatmap (Maps, issue 13): one optimizer from the current start, over a
// grid of learning rates (log, x) and its momentum-like knob (y: momentum μ, β₁ or α, as
// GET /api/maps/heatmap/axes names it per optimizer), coloured by the steps it took to
// settle (or the final loss gap), diverged cells and runs that never settled in colours of
// their own — the picture of Distill's "Why Momentum Really Works". A click on a cell sets
// both values and shows the race. The optimizer and the colour live in the state (URL
// `heatmap=`, `heatmap.color=`).
//
// A panel (maps.js mounts it): new HeatmapPanel(root, ctx); update(changed); resize().

import { exportButtons, fmt, GAP_FLOOR, MapPanel, maxSteps, middle, round3 } from "./maps_panel.js";
import { FONT, powerOfTen, theme } from "./plot.js";

// x: 1e-4 … 10 at 8 cells a decade; y: the knob from its minimum to 0.99 in steps of 0.03.
const X = { min: 1e-4, max: 10, count: 41 };
const Y_COUNT = 34;
const Y_MAX = 0.99;
const PREFERRED = "momentum"; // Distill's picture

export class HeatmapPanel extends MapPanel {
  constructor(root, ctx) {
    super(root, ctx, "heatmap");
    this.axes = null; // {optimizer: its y axis's hyperparameter} (GET …/heatmap/axes)

    const bar = document.createElement("div");
    bar.className = "maps-bar";
    const pick = (id, label) => {
      const wrap = document.createElement("label");
      wrap.className = "compact";
      const word = document.createElement("span");
      word.dataset.i18n = label;
      word.textContent = ctx.t(label);
      const select = document.createElement("select");
      select.dataset.testid = id;
      wrap.append(word, select);
      bar.append(wrap);
      return select;
    };
    this.select = pick("heatmap-optimizer", "maps.heatmap.optimizer");
    this.colorSelect = pick("heatmap-color", "maps.heatmap.color");
    this.select.addEventListener("change", () => ctx.setState({ heatmap: this.select.value }));
    this.colorSelect.addEventListener("change", () =>
      ctx.setState({ heatmapColor: this.colorSelect.value }),
    );
    const files = exportButtons(
      ctx,
      "heatmap",
      () => this.body(this.optimizer()),
      (text) => this.show(text),
    );
    root.append(files, bar, this.caption, this.chart, this.message);
  }

  /** The optimizer drawn: the state's choice, else Momentum if enabled, else the first
   * enabled optimizer with a second knob, else Momentum (or the first that has one). */
  optimizer() {
    const s = this.ctx.state();
    const eligible = this.ctx
      .optimizers()
      .map((o) => o.name)
      .filter((n) => this.axes && n in this.axes);
    if (s.heatmap && eligible.includes(s.heatmap)) return s.heatmap;
    if (s.optimizers.includes(PREFERRED) && eligible.includes(PREFERRED)) return PREFERRED;
    const enabled = eligible.find((n) => s.optimizers.includes(n));
    if (enabled) return enabled;
    return eligible.includes(PREFERRED) ? PREFERRED : eligible[0];
  }

  update(changed = null) {
    if (changed?.size === 1 && changed.has("lang") && this.last) {
      this.fillSelects();
      this.draw();
    } else {
      this.schedule(); // an unchanged request is drawn again, not asked again
    }
  }

  fillSelects() {
    const { t } = this.ctx;
    const chosen = this.optimizer();
    const names = this.ctx
      .optimizers()
      .filter((o) => o.name in this.axes)
      .map((o) => [o.name, o.title || o.name]);
    this.select.replaceChildren(
      ...names.map(([value, text]) => new Option(text, value, false, value === chosen)),
    );
    this.select.value = chosen;
    const color = this.ctx.state().heatmapColor;
    this.colorSelect.replaceChildren(
      ...["settle", "gap"].map(
        (value) => new Option(t(`maps.heatmap.${value}`), value, false, value === color),
      ),
    );
    this.colorSelect.value = color;
    for (const el of this.root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  }

  body(name) {
    const spec = this.ctx.optimizer(name);
    const yName = this.axes[name];
    const ySpec = spec.params.find((p) => p.name === yName);
    const s = this.ctx.state();
    const { lr: _lr, [yName]: _y, ...params } = s.params[name] ?? {};
    return {
      ...this.sceneFields(),
      runs: [{ optimizer: name, params }],
      x: { name: "lr", ...X, log: true },
      y: {
        name: yName,
        min: ySpec?.min ?? 0,
        max: Math.min(ySpec?.max ?? Y_MAX, Y_MAX),
        count: Y_COUNT,
        log: false,
      },
    };
  }

  async request() {
    this.axes ??= await this.ctx.get("/api/maps/heatmap/axes");
    this.fillSelects();
    return { path: "/api/maps/heatmap", body: this.body(this.optimizer()) };
  }

  async draw() {
    const answer = this.last;
    if (!answer) return;
    const { t } = this.ctx;
    const th = theme(this.ctx.presentation());
    const name = answer.optimizer;
    const spec = this.ctx.optimizer(name);
    const title = spec?.title || name;
    const mode = this.ctx.state().heatmapColor;
    const xs = answer.x.values.map((v) => Math.log10(v));
    const ys = answer.y.values;
    const yName = answer.y.name;
    const yLabel = t(`param.${yName}`);
    const steps = this.body(name).steps;
    this.caption.textContent = this.sentences([
      t("maps.heatmap.caption", { name: title, steps, count: xs.length * ys.length }),
      this.ctx.state().steps > steps ? t("maps.stepsCapped", { steps: maxSteps() }) : "",
      t("maps.heatmap.click"),
    ]);

    // z: the chosen measure; diverged and never-settled cells get traces of their own.
    const diverged = answer.gap.map((row) => row.map((g) => (g === null ? 1 : null)));
    const unsettled = answer.settled_at.map((row, j) =>
      row.map((s, i) => (s < 0 && answer.gap[j][i] !== null ? 1 : null)),
    );
    let z;
    let colorbar;
    const custom = answer.settled_at.map((row, j) =>
      row.map((s, i) => {
        const g = answer.gap[j][i];
        return [
          s >= 0 ? String(s) : t("maps.sweep.never"),
          g === null ? t("maps.sweep.diverged") : g.toPrecision(3),
        ];
      }),
    );
    if (mode === "gap") {
      z = answer.gap.map((row) =>
        row.map((g) => (g === null ? null : Math.log10(Math.max(g, GAP_FLOOR)))),
      );
      const finite = z.flat().filter((v) => v !== null);
      const lo = Math.floor(Math.min(...finite, 0));
      const hi = Math.ceil(Math.max(...finite, 0));
      const every = Math.max(1, Math.ceil((hi - lo) / 8));
      const tickvals = [];
      for (let k = lo; k <= hi; k += every) tickvals.push(k);
      colorbar = {
        title: { text: `f − f*`, side: "right" },
        tickvals,
        ticktext: tickvals.map(powerOfTen),
      };
    } else {
      z = answer.settled_at.map((row) => row.map((s) => (s >= 0 ? s : null)));
      colorbar = { title: { text: t("maps.heatmap.stepsBar"), side: "right" } };
    }
    // the lr as written (not its log) in the tooltip
    for (const row of custom) {
      row.forEach((c, i) => {
        c.push(fmt(answer.x.values[i]));
      });
    }
    const cell = {
      type: "heatmap",
      x: xs,
      y: ys,
      customdata: custom,
      xgap: 0,
      ygap: 0,
      hovertemplate:
        `<b>${title}</b><br>η = %{customdata[2]}<br>${yLabel} = %{y:.3g}<br>` +
        `${t("maps.sweep.settle")}: %{customdata[0]}<br>f − f* = %{customdata[1]}<extra></extra>`,
    };
    const solid = (color) => [
      [0, color],
      [1, color],
    ];
    const divergedColor = th.presentation ? "#ff6f61" : "#b42318";
    const unsettledColor = th.presentation ? "#6b6b6b" : "#c9ced6";
    const traces = [
      {
        ...cell,
        z,
        colorscale: this.ctx.colors.colorscale || "Viridis",
        reversescale: mode !== "gap",
        colorbar: {
          ...colorbar,
          thickness: th.presentation ? 18 : 12,
          len: 0.9,
          outlinewidth: 0,
          tickfont: { size: th.font - 2 },
        },
        meta: { kind: "cells" },
        name: t(`maps.heatmap.${mode}`),
      },
      {
        ...cell,
        z: diverged,
        colorscale: solid(divergedColor),
        showscale: false,
        meta: { kind: "diverged" },
        name: t("maps.sweep.diverged"),
      },
    ];
    if (mode !== "gap") {
      traces.push({
        ...cell,
        z: unsettled,
        colorscale: solid(unsettledColor),
        showscale: false,
        meta: { kind: "unsettled" },
        name: t("maps.heatmap.unsettled"),
      });
    }
    // The optimizer's current values, where the race runs now.
    const now = this.ctx.state().params[name] ?? {};
    if (now.lr > 0 && now[yName] !== undefined) {
      traces.push({
        type: "scatter",
        mode: "markers",
        x: [Math.log10(now.lr)],
        y: [now[yName]],
        name: t("maps.heatmap.current"),
        meta: { kind: "current" },
        marker: {
          symbol: "circle-open",
          size: th.presentation ? 18 : 13,
          color: th.presentation ? "#ffffff" : "#000000",
          line: { width: 3 },
        },
        hovertemplate: `<b>${title}</b> ${t("maps.heatmap.current")}<br>η = ${fmt(now.lr)}<br>${yLabel} = ${fmt(now[yName])}<extra></extra>`,
      });
    }
    // Legend keys for the two special colours (heatmaps have no legend entry of their own).
    const key = (text, color, kind) => ({
      type: "scatter",
      mode: "markers",
      x: [null],
      y: [null],
      name: text,
      meta: { kind },
      hoverinfo: "skip",
      marker: { symbol: "square", size: 12, color, line: { color: th.grid, width: 1 } },
    });
    traces.push(key(t("maps.sweep.diverged"), divergedColor, "key"));
    if (mode !== "gap") traces.push(key(t("maps.heatmap.unsettled"), unsettledColor, "key"));

    const decades = [];
    for (let k = Math.ceil(xs[0]); k <= Math.floor(xs.at(-1)); k += 1) decades.push(k);
    const half = (xs[1] - xs[0]) / 2;
    const yHalf = (ys[1] - ys[0]) / 2;
    const nothing = mode !== "gap" && z.every((row) => row.every((v) => v === null));
    const layout = {
      annotations: nothing
        ? [
            middle(
              `${t("maps.sweep.noneSettled", { steps })}<br>${t("maps.heatmap.tryMore")}`,
              0.5,
              th,
            ),
          ]
        : [],
      paper_bgcolor: th.paper,
      plot_bgcolor: th.paper,
      font: { family: FONT, size: th.font - 1, color: th.text },
      margin: {
        l: th.presentation ? 78 : 60,
        r: th.presentation ? 20 : 12,
        t: th.presentation ? 40 : 30,
        b: th.presentation ? 66 : 48,
      },
      dragmode: false,
      hovermode: "closest",
      showlegend: true,
      legend: {
        orientation: "h",
        x: 0,
        y: 1,
        xanchor: "left",
        yanchor: "bottom",
        bgcolor: "rgba(0,0,0,0)",
        font: { size: th.font - 1 },
      },
      xaxis: {
        title: { text: t("maps.sweep.lr"), standoff: 6 },
        range: [xs[0] - half, xs.at(-1) + half],
        tickvals: decades,
        ticktext: decades.map(powerOfTen),
        tickfont: { size: th.font + 1 }, // superscript digits read small
        zeroline: false,
        showgrid: false,
        linecolor: th.grid,
      },
      yaxis: {
        title: { text: yLabel, standoff: 6 },
        range: [ys[0] - yHalf, ys.at(-1) + yHalf],
        zeroline: false,
        showgrid: false,
        linecolor: th.grid,
      },
    };
    await this.react(traces, layout);
  }

  clicked(event) {
    const point = event?.points?.[0];
    const answer = this.last;
    if (!point || !answer || point.data?.type !== "heatmap") return;
    const [j, i] = point.pointNumber ?? point.pointIndex ?? [];
    const lr = answer.x.values[i];
    const y = answer.y.values[j];
    if (lr === undefined || y === undefined) return;
    this.ctx.setParams(this.last.optimizer, {
      lr: round3(lr),
      [answer.y.name]: Number(y.toPrecision(4)),
    });
  }
}
