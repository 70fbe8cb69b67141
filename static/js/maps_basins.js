// Basins of attraction: for each enabled optimizer a map of starts over the landscape's
// bounds, each pixel coloured by where the run from that start ends (each minimum its own
// colour, shared by every map; diverged and not settled their own) and shaded by how many
// steps it took to settle. Clicking a pixel sets that start and shows the race.
//
// The maps come from POST /api/maps/basins, one request per optimizer so the panel can
// show progress and draw each map as it arrives. Each map is one canvas: the n × n labels
// become an n × n image (one Uint32 write per start) scaled up without smoothing, so a
// 256 × 256 map of six optimizers draws in a few milliseconds.

import { FONT } from "./plot.js";

export const RESOLUTIONS = [64, 128, 256];
const DEFAULT_RESOLUTION = 128;
const MAX_RUNS = 6;
const DIVERGED = -1; // labels: an index into minima, -1 diverged, -2 not settled
const SHADES = 64; // levels of "steps to settle" per colour
const LEGEND_MINIMA = 6; // minima listed by name; beyond that, a count
// Paul Tol's colour-blind-safe qualitative colours, without his greys (grey is "not
// settled", black is "diverged"). Neighbouring minima get different colours.
const MINIMUM_COLORS = [
  "#4477AA",
  "#EE6677",
  "#228833",
  "#CCBB44",
  "#66CCEE",
  "#AA3377",
  "#332288",
  "#44AA99",
  "#DDCC77",
  "#882255",
];
const NOT_SETTLED_COLOR = "#a0a0a0";
const DIVERGED_COLOR = "#101010";

/** A base64 little-endian array of the API ({dtype, shape, data}) as a typed array. */
export function decodeArray({ dtype, shape, data }) {
  const Type = {
    int16: Int16Array,
    int32: Int32Array,
    float32: Float32Array,
    float64: Float64Array,
  }[dtype];
  if (!Type) throw new Error(`unknown dtype ${dtype}`);
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let k = 0; k < binary.length; k += 1) bytes[k] = binary.charCodeAt(k);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== count * Type.BYTES_PER_ELEMENT) {
    throw new Error(`${dtype} array of shape ${shape} has ${bytes.length} bytes`);
  }
  if (LITTLE_ENDIAN) return new Type(bytes.buffer);
  const view = new DataView(bytes.buffer);
  const out = new Type(count);
  const getter = `get${Type.name.replace("Array", "")}`; // getInt16, getFloat32, …
  for (let k = 0; k < count; k += 1) out[k] = view[getter](k * Type.BYTES_PER_ELEMENT, true);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function rgb(hex) {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** ImageData's byte order (RGBA) as one Uint32 on this machine. */
function packed([r, g, b]) {
  return LITTLE_ENDIAN
    ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0
    : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
}

/** Shade `level` of SHADES: light (settled at once) to dark (settled late). */
function shade(color, level) {
  const t = level / (SHADES - 1);
  const [r, g, b] = rgb(color);
  // 0 → 45 % towards white, 0.5 → the colour itself, 1 → 50 % towards black
  const mix = (c) => (t < 0.5 ? c + (255 - c) * 0.45 * (1 - 2 * t) : c * (1 - 0.5 * (2 * t - 1)));
  return [mix(r), mix(g), mix(b)].map(Math.round);
}

function css([r, g, b]) {
  return `rgb(${r}, ${g}, ${b})`;
}

/**
 * One colour index per minimum, so that each minimum's nearest neighbours (the basins
 * that touch it) differ: greedy colouring in the list's order over its 6 nearest minima.
 */
export function colourMinima(minima) {
  const colours = [];
  minima.forEach((m, i) => {
    const near = minima
      .slice(0, i)
      .map((o, k) => [Math.hypot(o.x - m.x, o.y - m.y), k])
      .sort((a, b) => a[0] - b[0])
      .slice(0, 6)
      .map(([, k]) => colours[k]);
    const free = MINIMUM_COLORS.findIndex((_, c) => !near.includes(c));
    colours.push(free >= 0 ? free : i % MINIMUM_COLORS.length);
  });
  return colours;
}

function number(v) {
  if (v === null || v === undefined) return "–";
  const r = Math.abs(v) < 5e-4 ? 0 : v;
  return Number(r.toPrecision(3)).toString().replace("-", "−");
}

function isPresentation() {
  return document.body.classList.contains("presentation");
}

/** Canvas pixels per CSS pixel, capped so six 256² maps stay cheap on a 4K screen. */
function ratio() {
  return Math.min(2, window.devicePixelRatio || 1);
}

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

/** Nice round ticks in [lo, hi]: about `count` of them on a 1-2-5 step. */
function ticks(lo, hi, count) {
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

export class BasinsPanel {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.resolution = DEFAULT_RESOLUTION;
    this.maps = []; // per run: {run, result|null, error|null, canvas, card, caption}
    this.clearMinima();
    this.requestKey = null; // the body (without runs) the maps show
    this.generation = 0;
    this.cache = new Map(); // JSON body → response (a few maps; a 256² map is ~400 kB)
    this.timer = null;
    this.busy = false;
    this.drawnSeq = 0; // complete sets of maps drawn (tests wait on it)
    this.last = null; // what the last complete set shows: per run, its shares and minima
    this.build();
  }

  build() {
    this.root.classList.add("basins");
    this.root.replaceChildren();
    const head = el("div", "basins-head");
    const label = el("label", "compact basins-resolution");
    this.resolutionLabel = el("span", "word");
    this.select = el("select", "", { "data-testid": "basins-resolution" });
    for (const n of RESOLUTIONS) {
      const option = el("option", "", { value: String(n) });
      this.select.append(option);
    }
    this.select.value = String(this.resolution);
    this.select.addEventListener("change", () => {
      this.resolution = Number(this.select.value);
      this.update();
    });
    label.append(this.resolutionLabel, this.select);
    this.progress = el("progress", "basins-progress", {
      "data-testid": "basins-progress",
      max: "1",
      value: "0",
    });
    this.status = el("span", "basins-status", {
      "data-testid": "basins-status",
      "aria-live": "polite",
    });
    this.hint = el("span", "basins-hint");
    head.append(label, this.progress, this.status, this.hint);
    this.grid = el("div", "basins-grid", { "data-testid": "basins-maps" });
    this.legend = el("div", "basins-legend", { "data-testid": "basins-legend" });
    this.tip = el("div", "basins-tip", { "data-testid": "basins-tip", role: "tooltip" });
    this.tip.hidden = true;
    this.root.append(head, this.grid, this.legend, this.tip);
    this.translate();
  }

  translate() {
    const { t } = this.ctx;
    this.resolutionLabel.textContent = t("maps.basins.resolution");
    for (const option of this.select.options) {
      option.textContent = t("maps.basins.resolutionOption", { n: option.value });
    }
    this.hint.textContent = t("maps.basins.hint");
  }

  /** The request for one run, and the key of what the whole panel shows. */
  bodies() {
    const scene = this.ctx.request();
    const runs = scene.runs.slice(0, MAX_RUNS);
    const common = {
      landscape: scene.landscape,
      steps: scene.steps,
      noise: scene.noise,
      seed: scene.seed,
      schedule: scene.schedule ?? null,
      resolution: this.resolution,
      bounds: null,
    };
    return {
      scene,
      runs,
      key: JSON.stringify({ common, runs: runs.map((r) => [r.optimizer, r.params]) }),
      body: (run) => ({ ...common, runs: [{ optimizer: run.optimizer, params: run.params }] }),
    };
  }

  /** The scene changed (or the panel was shown): recompute if the maps' inputs changed. */
  update() {
    this.translate();
    const { key } = this.bodies();
    if (key === this.requestKey) {
      this.refresh();
      return;
    }
    clearTimeout(this.timer);
    // Sliders fire many updates a second; compute once they rest.
    this.timer = setTimeout(() => this.compute().catch((err) => this.fail(err)), 150);
  }

  resize() {
    this.layout();
    this.drawAll();
  }

  /** Captions and legend first (they take room), then the maps in what is left. */
  refresh() {
    this.labelCards();
    this.renderLegend();
    this.layout();
    this.drawAll();
  }

  async compute() {
    const { scene, runs, key, body } = this.bodies();
    this.requestKey = key;
    this.busy = true;
    this.generation += 1;
    const generation = this.generation;
    this.scene = scene;
    const bounds = this.bounds();
    const before = new Map(
      this.maps.filter((m) => m.result).map((m) => [m.run.optimizer, this.image(m)]),
    );
    this.maps = runs.map((run) => {
      const bitmap = before.get(run.optimizer);
      return { run, result: null, error: null, previous: bitmap ? { bitmap, bounds } : null };
    });
    this.clearMinima();
    this.buildCards();
    this.refresh();
    if (runs.length === 0) {
      this.setStatus(this.ctx.t("maps.basins.empty"), 1);
      this.busy = false;
      this.drawnSeq += 1;
      return;
    }
    for (const [i, map] of this.maps.entries()) {
      this.setStatus(
        this.ctx.t("maps.basins.computing", {
          name: map.run.label,
          i: i + 1,
          n: this.maps.length,
          res: this.resolution,
        }),
        i / this.maps.length,
      );
      map.card.classList.add("computing");
      const request = body(map.run);
      const cacheKey = JSON.stringify(request);
      try {
        let response = this.cache.get(cacheKey);
        if (!response) {
          response = await this.ctx.post("/api/maps/basins", request);
          if (generation !== this.generation) return;
          this.remember(cacheKey, response);
        }
        this.accept(map, response);
      } catch (err) {
        if (generation !== this.generation) return;
        map.error = err.message;
      }
      map.card.classList.remove("computing");
      this.refresh();
    }
    const failed = this.maps.find((m) => m.error);
    this.setStatus(
      failed
        ? this.ctx.t("maps.basins.error", { detail: failed.error })
        : this.ctx.t("maps.basins.done", { res: this.resolution, steps: scene.steps }),
      1,
    );
    this.root.dataset.state = failed ? "error" : "done";
    this.busy = false;
    this.last = {
      resolution: this.resolution,
      minima: this.order.map((k) => ({ ...this.minima[k], color: this.colours[k] })),
      runs: this.maps.map((m) => ({
        optimizer: m.run.optimizer,
        counts: m.result?.counts ?? null,
        error: m.error,
      })),
    };
    this.drawnSeq += 1;
  }

  /** Something broke drawing the maps: say so in the status line, never hang. */
  fail(err) {
    console.error("basins:", err); // eslint-disable-line no-console
    this.busy = false;
    this.setStatus(this.ctx.t("maps.basins.error", { detail: err.message }), 1);
    this.root.dataset.state = "error";
  }

  /** No minima known yet (a new set of maps starts): the legend's order and colours go too. */
  clearMinima() {
    this.minima = []; // merged over every response, in the order they arrived
    this.order = []; // indices into minima in the legend's order
    this.colours = []; // per minimum
    this.luts = []; // per minimum: its shades as packed pixels
  }

  remember(key, response) {
    this.cache.set(key, response);
    while (this.cache.size > 12) this.cache.delete(this.cache.keys().next().value);
  }

  setStatus(text, fraction) {
    this.status.textContent = text;
    this.progress.value = fraction;
    this.progress.hidden = fraction >= 1;
    this.root.dataset.state = fraction >= 1 ? "done" : "computing";
  }

  /** Decode one response and fold its minima into the shared list. */
  accept(map, response) {
    const run = response.runs[0];
    const n = response.xs.length;
    const label = decodeArray(run.label);
    const settled = decodeArray(run.settled_at);
    // The same minimum in two responses is one colour: match by position.
    const span = Math.max(
      response.xs[n - 1] - response.xs[0],
      response.ys[response.ys.length - 1] - response.ys[0],
    );
    const index = response.minima.map((m) => {
      let k = this.minima.findIndex((o) => Math.hypot(o.x - m.x, o.y - m.y) <= 1e-4 * span + 1e-9);
      if (k < 0) {
        // `best`: its value is the landscape's f* (the API's name; `global` in early drafts)
        this.minima.push({ ...m, global: Boolean(m.best ?? m.global), reached: 0 });
        k = this.minima.length - 1;
      }
      return k;
    });
    const merged = new Int16Array(label.length);
    const counts = { global: 0, local: 0, notSettled: 0, diverged: 0 };
    for (let p = 0; p < label.length; p += 1) {
      const l = label[p];
      if (l >= 0) {
        merged[p] = index[l];
        if (this.minima[index[l]].global) counts.global += 1;
        else counts.local += 1;
      } else {
        merged[p] = l;
        if (l === DIVERGED) counts.diverged += 1;
        else counts.notSettled += 1;
      }
    }
    map.result = { xs: response.xs, ys: response.ys, n, label: merged, settled, counts };
    this.recolour();
  }

  /** Legend order: global minima first, then by value; colours follow that order. */
  recolour() {
    const reached = new Array(this.minima.length).fill(0);
    for (const map of this.maps) {
      if (!map.result) continue;
      for (const l of map.result.label) if (l >= 0) reached[l] += 1;
    }
    this.minima.forEach((m, k) => {
      m.reached = reached[k];
    });
    const order = this.minima
      .map((_, k) => k)
      .sort((a, b) => {
        const ma = this.minima[a];
        const mb = this.minima[b];
        return (
          Number(mb.global) - Number(ma.global) ||
          ma.value - mb.value ||
          mb.reached - ma.reached ||
          ma.x - mb.x ||
          ma.y - mb.y
        );
      });
    const colours = colourMinima(order.map((k) => this.minima[k]));
    this.colours = new Array(this.minima.length);
    this.order = order;
    order.forEach((k, rank) => {
      this.colours[k] = MINIMUM_COLORS[colours[rank]];
    });
    this.luts = this.colours.map((c) => {
      const lut = new Uint32Array(SHADES);
      for (let s = 0; s < SHADES; s += 1) lut[s] = packed(shade(c, s));
      return lut;
    });
  }

  buildCards() {
    this.grid.replaceChildren();
    this.maps.forEach((map, i) => {
      const card = el("figure", "basins-card", { "data-testid": `basins-card-${i}` });
      const title = el("figcaption", "basins-title");
      const swatch = el("span", "basins-swatch");
      const name = el("span", "basins-name");
      title.append(swatch, name);
      const canvas = el("canvas", "basins-map", {
        "data-testid": `basins-map-${map.run.optimizer}`,
        "data-index": String(i),
      });
      const caption = el("p", "basins-shares", { "data-testid": `basins-shares-${i}` });
      card.append(title, canvas, caption);
      this.grid.append(card);
      Object.assign(map, { card, title, canvas, caption, swatch, name });
      canvas.addEventListener("mousemove", (event) => this.hover(map, event));
      canvas.addEventListener("mouseleave", () => {
        this.tip.hidden = true;
      });
      canvas.addEventListener("click", (event) => this.click(map, event));
    });
    this.labelCards();
  }

  labelCards() {
    const { t } = this.ctx;
    for (const map of this.maps) {
      if (!map.card) continue;
      map.swatch.style.background = map.run.color;
      map.name.textContent = map.run.label;
      map.caption.title = "";
      if (map.error) {
        map.caption.textContent = t("maps.basins.error", { detail: map.error });
        continue;
      }
      if (!map.result) {
        map.caption.textContent = t("maps.basins.waiting");
        continue;
      }
      const { counts, n } = map.result;
      // Compact, so a small map keeps one line: the legend's marks, then the share.
      const items = SHARES.filter(([kind]) => counts[kind] > 0).map(([kind, mark]) => {
        const p = `${Math.round((100 * counts[kind]) / (n * n))}%`;
        const item = el("span", `basins-share ${kind}`, { "data-kind": kind });
        item.title = t(`maps.basins.share.${kind}`, { p });
        item.append(mark(), document.createTextNode(p));
        return item;
      });
      map.caption.replaceChildren(...items);
      for (const [kind, c] of Object.entries(counts)) map.canvas.dataset[kind] = String(c);
    }
  }

  /** Columns and map size: the largest square plot area that fits every map in the panel. */
  layout() {
    const count = this.maps.length;
    if (!count) return;
    const style = getComputedStyle(this.grid);
    const columnGap = Number.parseFloat(style.columnGap) || 12;
    const rowGap = Number.parseFloat(style.rowGap) || 10;
    const width = this.grid.clientWidth;
    const height = this.grid.clientHeight;
    const m = this.margins();
    // Title and caption heights, measured (they follow the font, the language and wrapping).
    const chrome =
      Math.max(...this.maps.map((m) => m.title.offsetHeight + m.caption.offsetHeight)) + 8;
    let best = { plot: 0, cols: 1 };
    for (let cols = 1; cols <= count; cols += 1) {
      const rows = Math.ceil(count / cols);
      const plot = Math.min(
        (width - columnGap * (cols - 1)) / cols - m.left - m.right,
        (height - rowGap * (rows - 1)) / rows - chrome - m.top - m.bottom,
      );
      if (plot > best.plot) best = { plot, cols };
    }
    const plot = Math.max(60, Math.floor(best.plot));
    const cellWidth = plot + m.left + m.right;
    this.grid.style.gridTemplateColumns = `repeat(${best.cols}, ${cellWidth}px)`;
    for (const map of this.maps) {
      map.plot = plot;
      map.canvas.style.width = `${cellWidth}px`;
      map.canvas.style.height = `${plot + m.top + m.bottom}px`;
    }
  }

  drawAll() {
    for (const map of this.maps) this.draw(map);
  }

  /** Room around a map's plot area (CSS pixels) for the tick labels. */
  margins() {
    const presentation = isPresentation();
    const font = presentation ? 15 : 11;
    return {
      font,
      presentation,
      left: Math.round(font * 3.2),
      right: Math.round(font * 1.3),
      top: 6,
      bottom: Math.round(font * 1.9),
    };
  }

  /** The plot area inside a map's canvas (CSS pixels). */
  frame(map) {
    const m = this.margins();
    return { ...m, size: map.plot };
  }

  draw(map) {
    const canvas = map.canvas;
    if (!canvas || !map.plot) return;
    const k = ratio();
    const f = this.frame(map);
    canvas.dataset.plot = [f.left, f.top, f.size].join(","); // the map's pixels (tests click them)
    const width = f.size + f.left + f.right;
    const height = f.size + f.top + f.bottom;
    if (canvas.width !== Math.round(width * k) || canvas.height !== Math.round(height * k)) {
      canvas.width = Math.round(width * k);
      canvas.height = Math.round(height * k);
    }
    const g = canvas.getContext("2d");
    g.setTransform(k, 0, 0, k, 0, 0);
    g.clearRect(0, 0, width, height);
    const text = f.presentation ? "#ffffff" : "#1f2328";
    g.fillStyle = f.presentation ? "#1a1a1a" : "#eef0f3";
    g.fillRect(f.left, f.top, f.size, f.size);
    const result = map.result;
    g.imageSmoothingEnabled = false;
    if (result) {
      g.drawImage(this.image(map), f.left, f.top, f.size, f.size);
    } else if (map.previous) {
      // The last picture, faded, until the new one arrives (a slider drag keeps its maps).
      g.globalAlpha = 0.35;
      g.drawImage(map.previous.bitmap, f.left, f.top, f.size, f.size);
      g.globalAlpha = 1;
    }
    g.strokeStyle = f.presentation ? "#888" : "#8a939c";
    g.lineWidth = 1;
    g.strokeRect(f.left - 0.5, f.top - 0.5, f.size + 1, f.size + 1);
    const bounds = this.bounds();
    if (!bounds) return;
    const [[x0, x1], [y0, y1]] = bounds;
    const px = (x) => f.left + ((x - x0) / (x1 - x0)) * f.size;
    const py = (y) => f.top + (1 - (y - y0) / (y1 - y0)) * f.size;
    g.fillStyle = text;
    g.font = `${f.font}px ${FONT}`;
    g.textAlign = "center";
    g.textBaseline = "top";
    const tickCount = f.size < 200 ? 3 : 5;
    for (const x of ticks(x0, x1, tickCount)) {
      g.fillRect(px(x) - 0.5, f.top + f.size, 1, 4);
      g.fillText(number(x), px(x), f.top + f.size + 5);
    }
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (const y of ticks(y0, y1, tickCount)) {
      g.fillRect(f.left - 4, py(y) - 0.5, 4, 1);
      g.fillText(number(y), f.left - 6, py(y));
    }
    if (!result) return;
    // Minima: white, outlined (★ a global one, ● a local one), as on the race's plot.
    // Many minima (Rastrigin has 121 in view) get small marks, so the basins stay visible.
    const r = (f.presentation ? 6 : 4.5) * (this.minima.length > 20 ? 0.6 : 1);
    this.minima.forEach((m) => {
      if (m.x < x0 || m.x > x1 || m.y < y0 || m.y > y1) return;
      const cx = px(m.x);
      const cy = py(m.y);
      g.beginPath();
      if (m.global) star(g, cx, cy, r * 1.5);
      else g.arc(cx, cy, r, 0, 2 * Math.PI);
      g.fillStyle = this.ctx.colors?.minimum ?? "#ffffff";
      g.fill();
      g.lineWidth = 1.2;
      g.strokeStyle = "#000000";
      g.stroke();
    });
    // The current start: a cross, so a lecturer sees which basin today's race starts in.
    const start = this.ctx.request().start;
    if (start) {
      const sx = px(start[0]);
      const sy = py(start[1]);
      if (sx >= f.left && sx <= f.left + f.size && sy >= f.top && sy <= f.top + f.size) {
        g.lineWidth = 4;
        g.strokeStyle = "#ffffff";
        cross(g, sx, sy, f.presentation ? 9.6 : 7.2);
        g.lineWidth = 2;
        g.strokeStyle = "#000000";
        cross(g, sx, sy, f.presentation ? 9.6 : 7.2);
      }
    }
  }

  bounds() {
    const result = this.maps.find((m) => m.result)?.result;
    if (!result) return this.maps.find((m) => m.previous)?.previous.bounds ?? null;
    const { xs, ys, n } = result;
    // Pixel centres are the starts; the image spans half a pixel beyond them.
    const hx = (xs[n - 1] - xs[0]) / (2 * (n - 1));
    const hy = (ys[n - 1] - ys[0]) / (2 * (n - 1));
    return [
      [xs[0] - hx, xs[n - 1] + hx],
      [ys[0] - hy, ys[n - 1] + hy],
    ];
  }

  /** The map as an n × n image (row 0 at the top = the largest y), cached per colouring. */
  image(map) {
    const { n, label, settled } = map.result;
    if (map.imageFor === this.luts && map.bitmap) return map.bitmap;
    const steps = Math.max(1, this.scene?.steps ?? 1);
    const scale = (SHADES - 1) / Math.log1p(steps);
    const out = new ImageData(n, n);
    const pixels = new Uint32Array(out.data.buffer);
    const notSettled = packed(rgb(NOT_SETTLED_COLOR));
    const diverged = packed(rgb(DIVERGED_COLOR));
    for (let j = 0; j < n; j += 1) {
      const row = (n - 1 - j) * n;
      for (let i = 0; i < n; i += 1) {
        const p = j * n + i;
        const l = label[p];
        if (l >= 0) {
          const s = Math.min(SHADES - 1, Math.round(Math.log1p(Math.max(0, settled[p])) * scale));
          pixels[row + i] = this.luts[l][s];
        } else {
          pixels[row + i] = l === DIVERGED ? diverged : notSettled;
        }
      }
    }
    const bitmap = document.createElement("canvas");
    bitmap.width = n;
    bitmap.height = n;
    bitmap.getContext("2d").putImageData(out, 0, 0);
    map.bitmap = bitmap;
    map.imageFor = this.luts;
    return bitmap;
  }

  /** The start under the mouse: {i, j, x, y} or null outside the map. */
  pick(map, event) {
    if (!map.result) return null;
    const rect = map.canvas.getBoundingClientRect();
    const f = this.frame(map);
    const u = (event.clientX - rect.left - f.left) / f.size;
    const v = (event.clientY - rect.top - f.top) / f.size;
    if (u < 0 || u >= 1 || v < 0 || v >= 1) return null;
    const { n, xs, ys } = map.result;
    const i = Math.min(n - 1, Math.floor(u * n));
    const j = Math.min(n - 1, Math.floor((1 - v) * n));
    return { i, j, x: xs[i], y: ys[j] };
  }

  hover(map, event) {
    const at = this.pick(map, event);
    if (!at) {
      this.tip.hidden = true;
      return;
    }
    const { t } = this.ctx;
    const { n, label, settled } = map.result;
    const p = at.j * n + at.i;
    const l = label[p];
    const vars = { x: number(at.x), y: number(at.y), steps: this.scene?.steps ?? "" };
    let text;
    if (l >= 0) {
      const m = this.minima[l];
      text = t("maps.basins.tip.minimum", {
        ...vars,
        mx: number(m.x),
        my: number(m.y),
        s: settled[p],
      });
    } else {
      text = t(l === DIVERGED ? "maps.basins.tip.diverged" : "maps.basins.tip.notSettled", vars);
    }
    this.tip.textContent = `${map.run.label}: ${text}`;
    this.tip.hidden = false;
    const host = this.root.getBoundingClientRect();
    const x = event.clientX - host.left + 14;
    const y = event.clientY - host.top + 14;
    const maxX = host.width - this.tip.offsetWidth - 4;
    this.tip.style.left = `${Math.max(4, Math.min(x, maxX))}px`;
    this.tip.style.top = `${y + this.tip.offsetHeight > host.height ? y - this.tip.offsetHeight - 24 : y}px`;
  }

  click(map, event) {
    const at = this.pick(map, event);
    if (!at) return;
    this.ctx.setStart([at.x, at.y]);
    this.ctx.showRace();
  }

  renderLegend() {
    const { t } = this.ctx;
    const steps = this.scene?.steps ?? this.ctx.request().steps;
    const list = el("ul", "basins-keys");
    const reached = this.order.filter((k) => this.minima[k].reached > 0);
    const listed = reached.slice(0, LEGEND_MINIMA);
    for (const [kind, global] of [
      ["global", true],
      ["local", false],
    ]) {
      const group = listed.filter((k) => this.minima[k].global === global);
      if (!group.length) continue;
      const li = el("li", "basins-key basins-group", { "data-kind": kind });
      li.append(document.createTextNode(t(`maps.basins.legend.${kind}`)));
      for (const k of group) {
        const m = this.minima[k];
        const point = el("span", "basins-point", {
          "data-kind": "minimum",
          "data-color": this.colours[k],
        });
        point.append(
          swatch(this.colours[k]),
          document.createTextNode(`(${number(m.x)}, ${number(m.y)})`),
        );
        li.append(point);
      }
      list.append(li);
    }
    if (reached.length > LEGEND_MINIMA) {
      const li = el("li", "basins-key more", { "data-kind": "more" });
      li.textContent = t("maps.basins.legend.more", { n: reached.length - LEGEND_MINIMA });
      list.append(li);
    }
    for (const [kind, colour, text] of [
      ["notSettled", NOT_SETTLED_COLOR, t("maps.basins.legend.notSettled", { steps })],
      ["diverged", DIVERGED_COLOR, t("maps.basins.legend.diverged")],
    ]) {
      const li = el("li", "basins-key", { "data-kind": kind });
      li.append(swatch(colour), document.createTextNode(text));
      list.append(li);
    }
    const ramp = el("div", "basins-ramp");
    const bar = el("span", "basins-ramp-bar");
    const base = reached.length ? this.colours[reached[0]] : MINIMUM_COLORS[0];
    const stops = [0, 0.25, 0.5, 0.75, 1].map((q) => css(shade(base, q * (SHADES - 1))));
    bar.style.background = `linear-gradient(90deg, ${stops.join(", ")})`;
    const words = el("span", "basins-ramp-text");
    words.textContent = t("maps.basins.legend.shade", { steps });
    ramp.append(bar, words);
    this.legend.replaceChildren(list, ramp);
  }
}

function swatch(colour) {
  const node = el("span", "basins-swatch");
  node.style.background = colour;
  return node;
}

function glyph(text) {
  return () => {
    const node = el("span", "basins-glyph", { "aria-hidden": "true" });
    node.textContent = text;
    return node;
  };
}

// The caption's shares, each with the legend's mark: ★ a global minimum, ● another one.
const SHARES = [
  ["global", glyph("★")],
  ["local", glyph("●")],
  ["notSettled", () => swatch(NOT_SETTLED_COLOR)],
  ["diverged", () => swatch(DIVERGED_COLOR)],
];

function star(g, cx, cy, r) {
  for (let k = 0; k < 10; k += 1) {
    const a = -Math.PI / 2 + (k * Math.PI) / 5;
    const rr = k % 2 ? r * 0.45 : r;
    const x = cx + rr * Math.cos(a);
    const y = cy + rr * Math.sin(a);
    if (k === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  }
  g.closePath();
}

function cross(g, cx, cy, r) {
  g.beginPath();
  g.moveTo(cx - r, cy - r);
  g.lineTo(cx + r, cy + r);
  g.moveTo(cx - r, cy + r);
  g.lineTo(cx + r, cy - r);
  g.stroke();
}
