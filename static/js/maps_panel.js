// What the sweep and heatmap panels (maps_sweep.js, maps_heatmap.js) share: a caption, a
// chart and a message in the panel's root; requests that follow the sliders (debounced,
// one in flight, the latest wins, an unchanged request not asked again); Plotly drawing at
// the chart's measured size; the counters the browser tests wait on.
//
// A subclass gives `request()` → {path, body} (or {message} when there is nothing to ask),
// `draw()` (the chart from `this.last`, through `react`), and `clicked(event)`.
/* global Plotly */

import { withLocale } from "./plotly_locale.js";
import { getCatalog } from "./state.js";

/** The maps endpoints' step limit (/api/settings maps.steps, app/config.py MAP_STEPS): a
 * longer race is mapped at this many steps. */
export const maxSteps = () => getCatalog().settings.maps.steps.max;
// A final gap of 0 (the exact minimum) has no place on a log axis: drawn at this floor.
export const GAP_FLOOR = 1e-16;
const DEBOUNCE_MS = 40;

/** A clicked value as the sliders propose them: three significant digits. */
export const round3 = (v) => Number(v.toPrecision(3));

/** A number in a caption or a label: 3 digits, exponent form when very small or large. */
export function fmt(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(2).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

/** A note in the middle of a chart (paper coordinates) that has nothing to draw. */
export function middle(text, y, th) {
  return {
    xref: "paper",
    yref: "paper",
    x: 0.5,
    y,
    showarrow: false,
    text,
    font: { size: th.font, color: th.text },
    bgcolor: th.legendBg,
  };
}

// The size of a downloaded map picture: a 16:9 slide.
const PICTURE = { width: 1280, height: 720 };

/** PNG and CSV buttons that download the map the panel shows, drawn by the server in the
 * page's language (POST /api/maps/<kind>/export with the panel's own request `body()`);
 * a failure is said by `show(text)`. */
export function exportButtons(ctx, kind, body, show) {
  const wrap = document.createElement("span");
  wrap.className = "maps-export";
  for (const format of ["png", "csv"]) {
    const button = element("button", "chip", `${kind}-export-${format}`);
    button.type = "button";
    button.textContent = format.toUpperCase();
    button.title = ctx.t("maps.download", { format: format.toUpperCase() });
    button.addEventListener("click", () => download(ctx, kind, format, body(), button, show));
    wrap.append(button);
  }
  return wrap;
}

async function download(ctx, kind, format, body, button, show) {
  button.disabled = true;
  try {
    const query = new URLSearchParams({ format, lang: ctx.lang(), ...PICTURE });
    const response = await fetch(`/api/maps/${kind}/export?${query}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      const reply = await response.json().catch(() => ({}));
      const detail = typeof reply.detail === "string" ? reply.detail : response.statusText;
      throw new Error(`${response.status} ${detail}`);
    }
    const disposition = response.headers.get("Content-Disposition") ?? "";
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `gradscape-${kind}.${format}`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (err) {
    show(ctx.t("maps.error", { detail: err.message }));
  } finally {
    button.disabled = false;
  }
}

function element(tag, className, testid) {
  const el = document.createElement(tag);
  el.className = className;
  el.dataset.testid = testid;
  return el;
}

export class MapPanel {
  constructor(root, ctx, name) {
    this.root = root;
    this.ctx = ctx;
    this.seq = 0; // requests made
    this.drawnSeq = 0; // the request whose answer (or error) is shown (tests wait on it)
    this.draws = 0; // charts drawn, resizes included (the layout tests wait on it)
    this.last = null; // the server's answer drawn
    this.key = null; // the request it answered
    this.timer = null;
    this.busy = false;
    this.again = false;
    root.classList.add(name);
    this.caption = element("p", "maps-caption", `${name}-caption`);
    this.chart = element("div", "maps-chart", `${name}-plot`);
    this.message = element("p", "maps-message", `${name}-message`);
    this.message.hidden = true;
  }

  /** The scene's fields every map request carries (steps within the maps' limit). */
  sceneFields() {
    const { landscape, start, steps, noise, seed, schedule } = this.ctx.request();
    return { landscape, start, steps: Math.min(steps, maxSteps()), noise, seed, schedule };
  }

  /** Ask soon: a slider drag asks once it pauses for DEBOUNCE_MS. */
  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fetch(), DEBOUNCE_MS);
  }

  resize() {
    if (this.last) this.draw(); // at the chart's new size (react measures it)
  }

  async fetch() {
    if (this.busy) {
      this.again = true; // the answer in flight is stale; ask again when it lands
      return;
    }
    this.busy = true;
    this.root.classList.add("busy");
    this.seq += 1;
    const seq = this.seq;
    try {
      const ask = await this.request();
      if (ask.message) {
        this.last = null;
        this.key = null;
        this.show(ask.message);
        if (this.chart.classList.contains("js-plotly-plot")) Plotly.purge(this.chart);
      } else {
        const key = JSON.stringify(ask.body);
        if (key !== this.key || !this.last) {
          const answer = await this.ctx.post(ask.path, ask.body);
          if (this.again) return;
          this.last = answer;
          this.key = key;
        }
        this.show(null);
        await this.draw();
      }
      this.drawnSeq = seq;
    } catch (err) {
      if (!this.again) {
        this.show(this.ctx.t("maps.error", { detail: err.message }));
        this.drawnSeq = seq;
      }
    } finally {
      this.busy = false;
      this.root.classList.remove("busy");
      if (this.again) {
        this.again = false;
        this.fetch();
      }
    }
  }

  show(text) {
    this.message.hidden = !text;
    this.message.textContent = text || "";
  }

  /** Sentences of a caption: Japanese ones follow each other without a space. */
  sentences(parts) {
    return parts.filter(Boolean).join(this.ctx.lang() === "ja" ? "" : " ");
  }

  /** Draw at the chart's box as measured now (Plotly.react keeps its last draw's size). */
  async react(traces, layout) {
    const size = {
      width: Math.max(200, this.chart.clientWidth),
      height: Math.max(200, this.chart.clientHeight),
    };
    await Plotly.react(
      this.chart,
      traces,
      { ...size, ...layout },
      withLocale({ displaylogo: false, responsive: false, displayModeBar: false }),
    );
    if (!this.bound) {
      this.bound = true;
      this.chart.on("plotly_click", (event) => this.clicked(event));
    }
    this.draws += 1;
  }
}
