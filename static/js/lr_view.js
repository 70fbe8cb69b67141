// The learning-rate chart ηₜ, under the loss chart whenever a schedule is on: run i's
// ηₜ = params.lr × factor(t), factor(t) from the server (WS meta `lr_factors`). It shows
// what warmup and decay do to the step size, next to the step dots that show its effect.
/* global Plotly */

import { StepChart, stepChartFrame, stepChartMargin, stepTrace, theme } from "./plot.js";

export class LrView extends StepChart {
  constructor(el, t) {
    super(el, "lr-cursor");
    this.t = t;
    this.shown = false;
  }

  /** Hidden without a schedule; resolves once drawn (or hidden). */
  async render({ runs, steps, cursor, factors, presentation }) {
    const show = Array.isArray(factors) && factors.length > 0 && runs.length > 0;
    this.el.hidden = !show;
    if (!show) {
      if (this.shown) Plotly.purge(this.chart);
      this.shown = false;
      return;
    }
    this.shown = true;
    // The page's stylesheet sizes .lr-plot; until it does, a chart needs some height.
    if (!this.el.clientHeight) this.el.style.minHeight = "120px";
    const th = theme(presentation);
    const lrs = runs.map((run) => Number(run.params.lr ?? Number.NaN));
    const finite = lrs.filter((v) => v > 0);
    // Learning rates decades apart (SGD 1e-3, Adam 0.1) stay readable on a log axis; there
    // a factor of 0 (cosine's end) has no point and the line stops.
    const log = finite.length > 1 && Math.max(...finite) / Math.min(...finite) > 20;
    const traces = runs.map((run, i) => {
      const y = new Float64Array(factors.length);
      for (let k = 0; k < factors.length; k += 1) {
        const v = lrs[i] * factors[k];
        y[k] = log && !(v > 0) ? Number.NaN : v;
      }
      return stepTrace(run, y, th, this.t, "η = %{y:.4g}");
    });
    const layout = {
      margin: stepChartMargin(th),
      ...stepChartFrame(th, this.t("lr.title"), steps, this.t),
      yaxis: {
        type: log ? "log" : "linear",
        exponentformat: "power",
        gridcolor: th.grid,
        zeroline: false,
        rangemode: log ? "normal" : "tozero",
      },
      hovermode: "x",
    };
    await this.draw(traces, layout, steps, cursor);
  }
}
