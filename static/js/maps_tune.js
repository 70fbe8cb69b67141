// The fair race ("tune"): for each enabled optimizer, its learning rate (and optionally one
// momentum-like hyperparameter) searched by grid search, random search and Bayesian
// optimization, each with the same budget of trials, for the current landscape, start and
// steps. A trial's score is log₁₀ of the final loss gap f − f* (lower is better).
//
// Trials stream over the WebSocket /ws/tune (`trial` messages, then `done`); the panel
// reveals them in the order they ran, the three methods side by side, so a lecture sees
// the grid sweep evenly, random search scatter, and the Gaussian-process surrogate (mean,
// ±2σ band) and its expected improvement pick the next trial. A step slider walks back
// through the trials and the surrogate after each. "Race at the best values" sets each
// optimizer's hyperparameters to the best found and shows the race.
/* global Plotly */

import { decodeArray } from "./maps_basins.js";

export const METHODS = ["grid", "random", "bayes"];
const DEFAULT_BUDGET = 20;
const MIN_BUDGET = 4; // the server's range (TUNE_BUDGET)
const MAX_BUDGET = 64;
// Trials appear one by one (per method, in step) at this pace, so the order is visible
// even when the server answers the whole search in a blink.
const REVEAL_MS = 45;
// The second hyperparameter searched with lr ("momentum-like"), when the server does not say.
// The momentum-like hyperparameter searched with lr: Momentum's and NAG's μ (RMSprop's
// momentum too), Adam-family β₁. Optimizers without one (SGD, AdaGrad) search lr alone.
const EXTRA_NAMES = ["momentum", "beta1"];

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

/** A hyperparameter value as people write it: 3 significant digits. */
export function short(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const text =
    Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4
      ? String(Number(v.toPrecision(3)))
      : v.toExponential(1);
  return text.replace("e-", "e−").replace(/^-/, "−");
}

function isPresentation() {
  return document.body.classList.contains("presentation");
}

/** The best trial (lowest finite score) of a list; the first on a tie. */
export function bestOf(trials) {
  let best = null;
  for (const trial of trials) {
    if (Number.isFinite(trial.score) && (!best || trial.score < best.score)) best = trial;
  }
  return best;
}

/** A snapshot's base64 float32 arrays as numbers: [n] or, in 2-D, [ny][nx] rows. */
function decodeSnapshot(snapshot) {
  const out = { ...snapshot };
  for (const name of ["mean", "std", "ei"]) {
    const array = snapshot[name];
    const flat = Array.from(decodeArray(array));
    if (array.shape.length === 2) {
      const [ny, nx] = array.shape;
      out[name] = Array.from({ length: ny }, (_, j) => flat.slice(j * nx, (j + 1) * nx));
    } else {
      out[name] = flat;
    }
  }
  return out;
}

/** "#rrggbb" at opacity a, as CSS rgba(). */
function alpha(hex, a) {
  const v = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${a})`;
}

/** A log axis's range (Plotly takes log₁₀ of the ends). */
function logRange(dim) {
  return [Math.log10(dim.low), Math.log10(dim.high)];
}

/** A range widened by 3 % each side, so trials at its ends show whole. */
function padded([lo, hi]) {
  const pad = 0.03 * (hi - lo);
  return [lo - pad, hi + pad];
}

/** The learning-rate axis of a column (log scale). */
function lrAxis(th, domain, range, anchor, title) {
  return {
    type: "log",
    domain,
    range,
    anchor,
    gridcolor: th.grid,
    exponentformat: "power",
    title: title ? { text: title, standoff: 4 } : undefined,
  };
}

/** A note in words under a column (what the method does; the surrogate's warm-up). */
function note(text, domain, y, th) {
  return {
    text,
    xref: "paper",
    yref: "paper",
    x: domain[0],
    y,
    xanchor: "left",
    yanchor: "top",
    yshift: -2,
    align: "left",
    showarrow: false,
    font: { size: th.small, color: th.text },
  };
}

function linspace(lo, hi, n) {
  return Array.from({ length: n }, (_, k) => lo + ((hi - lo) * k) / (n - 1));
}

/**
 * The live channel to /ws/tune: `send(body)` starts a search (the server drops the one
 * before); handlers get only the messages of the latest id. Without a socket the search
 * falls back to POST /api/maps/tune, delivered as the same messages.
 */
class TuneChannel {
  constructor(post, handlers) {
    this.post = post;
    this.handlers = handlers;
    this.counter = 0;
    this.current = null;
    this.socket = null;
    this.pending = null;
  }

  open() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/tune`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.pending) socket.send(JSON.stringify(this.pending));
      this.pending = null;
    });
    socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.pending) this.byRest(this.pending);
      this.pending = null;
    });
  }

  send(body) {
    this.counter += 1;
    const id = `t${this.counter}`;
    this.current = id;
    const message = { type: "tune", id, ...body };
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    } else {
      this.pending = message;
      if (!this.socket) this.open();
    }
    return id;
  }

  async byRest(message) {
    const { type: _type, id, ...body } = message;
    try {
      const reply = await this.post("/api/maps/tune", body);
      if (id !== this.current) return;
      this.receive({ type: "meta", id, f_star: reply.f_star, runs: reply.runs });
      for (const [run, tuned] of (reply.runs ?? []).entries()) {
        for (const result of tuned.methods ?? []) {
          const method = result.method;
          const snapshots = new Map((result.snapshots ?? []).map((s) => [s.after, s]));
          for (const [index, trial] of result.trials.entries()) {
            this.receive({
              type: "trial",
              id,
              run,
              method,
              index,
              values: trial.values,
              score: trial.score,
              gap: trial.gap,
              snapshot: snapshots.get(index),
            });
          }
        }
      }
      this.receive({ type: "done", id, ...reply });
    } catch (err) {
      this.receive({ type: "error", id, detail: err.message });
    }
  }

  receive(message) {
    if (message.id !== undefined && message.id !== this.current) return;
    this.handlers[message.type]?.(message);
  }

  close() {
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }
}

export class TunePanel {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.budget = DEFAULT_BUDGET;
    this.extra = false; // search a momentum-like hyperparameter with lr
    this.selected = 0; // the run whose searches the chart shows
    this.view = null; // the trial count the chart shows (null: follow the reveal)
    this.runs = [];
    this.key = null;
    this.timer = null;
    this.revealTimer = null;
    this.drawnSeq = 0;
    this.last = null; // the last finished tune: {runs: [{optimizer, best: {method: trial}}]}
    this.channel = new TuneChannel(ctx.post, {
      meta: (m) => this.onMeta(m),
      trial: (m) => this.onTrial(m),
      done: (m) => this.onDone(m),
      error: (m) => this.onError(m.detail),
    });
    this.build();
  }

  build() {
    this.root.classList.add("tune");
    const head = el("div", "tune-head maps-bar");
    const budget = el("label", "compact");
    this.budgetLabel = el("span", "word");
    this.budgetInput = el("input", "tune-budget", {
      type: "number",
      min: String(MIN_BUDGET),
      max: String(MAX_BUDGET),
      step: "1",
      value: String(this.budget),
      "data-testid": "tune-budget",
    });
    this.budgetInput.addEventListener("change", () => {
      const v = Math.round(Number(this.budgetInput.value));
      this.budget = Math.min(MAX_BUDGET, Math.max(MIN_BUDGET, Number.isFinite(v) ? v : 20));
      this.budgetInput.value = String(this.budget);
      this.update();
    });
    budget.append(this.budgetLabel, this.budgetInput);
    const extra = el("label", "compact");
    this.extraLabel = el("span", "word");
    this.extraSelect = el("select", "", { "data-testid": "tune-extra" });
    this.extraSelect.append(
      el("option", "", { value: "none" }),
      el("option", "", { value: "momentum" }),
    );
    this.extraSelect.addEventListener("change", () => {
      this.extra = this.extraSelect.value !== "none";
      this.update();
    });
    extra.append(this.extraLabel, this.extraSelect);
    const show = el("label", "compact");
    this.showLabel = el("span", "word");
    this.showSelect = el("select", "", { "data-testid": "tune-show" });
    this.showSelect.addEventListener("change", () => this.select(Number(this.showSelect.value)));
    show.append(this.showLabel, this.showSelect);
    this.replay = el("button", "chip", { type: "button", "data-testid": "tune-run" });
    this.replay.addEventListener("click", () => this.start(true));
    const which = el("label", "compact");
    this.whichLabel = el("span", "word");
    this.whichSelect = el("select", "", { "data-testid": "tune-method" });
    for (const value of ["best", ...METHODS]) this.whichSelect.append(el("option", "", { value }));
    this.whichSelect.addEventListener("change", () => this.renderTable());
    which.append(this.whichLabel, this.whichSelect);
    this.raceButton = el("button", "primary", { type: "button", "data-testid": "tune-race" });
    this.raceButton.addEventListener("click", () => this.raceAtBest());
    const race = el("span", "tune-race");
    race.append(which, this.raceButton);
    head.append(budget, extra, show, this.replay);
    this.status = el("span", "tune-status", {
      "data-testid": "tune-status",
      "aria-live": "polite",
    });

    this.chart = el("div", "tune-chart", { "data-testid": "tune-plot" });
    this.caption = el("p", "maps-caption tune-caption");

    const stepper = el("div", "tune-stepper maps-bar");
    this.back = el("button", "icon-btn", { type: "button", "data-testid": "tune-back" });
    this.back.textContent = "◀︎";
    this.forward = el("button", "icon-btn", { type: "button", "data-testid": "tune-forward" });
    this.forward.textContent = "▶︎";
    this.slider = el("input", "tune-slider", {
      type: "range",
      min: "1",
      max: "1",
      value: "1",
      step: "1",
      "data-testid": "tune-step",
    });
    this.stepLabel = el("span", "tune-step-label", { "data-testid": "tune-step-label" });
    this.back.addEventListener("click", () => this.showTrials(this.shownCount() - 1));
    this.forward.addEventListener("click", () => this.showTrials(this.shownCount() + 1));
    this.slider.addEventListener("input", () => this.showTrials(Number(this.slider.value)));
    stepper.append(this.back, this.slider, this.forward, this.stepLabel, race);
    head.append(this.status);

    this.table = el("table", "tune-table", { "data-testid": "tune-table" });
    this.message = el("p", "maps-message", { "data-testid": "tune-message", role: "alert" });
    this.message.hidden = true;
    this.root.append(head, this.chart, this.caption, stepper, this.table, this.message);
    this.translate();
  }

  translate() {
    const { t } = this.ctx;
    this.budgetLabel.textContent = t("maps.tune.budget");
    this.budgetInput.title = t("maps.tune.budgetHelp");
    this.extraLabel.textContent = t("maps.tune.extra");
    this.extraSelect.options[0].textContent = t("maps.tune.extraNone");
    this.extraSelect.options[1].textContent = t("maps.tune.extraMomentum");
    this.showLabel.textContent = t("maps.tune.show");
    this.replay.textContent = t("maps.tune.replay");
    this.replay.title = t("maps.tune.replayHelp");
    this.back.title = t("maps.tune.back");
    this.forward.title = t("maps.tune.forward");
    this.slider.setAttribute("aria-label", t("maps.tune.stepAria"));
    this.whichLabel.textContent = t("maps.tune.which");
    for (const option of this.whichSelect.options) {
      option.textContent = t(`maps.tune.which.${option.value}`);
    }
    this.raceButton.textContent = t("maps.tune.race");
    this.caption.textContent = t("maps.tune.caption");
  }

  /** The momentum-like hyperparameter searched with lr for `optimizer`, or null. */
  extraFor(optimizer) {
    if (!this.extra) return null;
    const names = (this.ctx.optimizer(optimizer)?.params ?? []).map((p) => p.name);
    return EXTRA_NAMES.find((n) => names.includes(n)) ?? null;
  }

  /** The request, and its key without the tuned values (so racing at the best keeps it). */
  request() {
    const scene = this.ctx.request();
    const runs = scene.runs.map((run) => {
      const extra = this.extraFor(run.optimizer);
      const params = { ...run.params };
      delete params.lr;
      if (extra) delete params[extra];
      return { optimizer: run.optimizer, params, extra, label: run.label, color: run.color };
    });
    const body = {
      landscape: scene.landscape,
      start: scene.start,
      steps: scene.steps,
      noise: scene.noise,
      seed: scene.seed,
      schedule: scene.schedule ?? null,
      budget: this.budget,
      runs: runs.map(({ optimizer, params, extra }) =>
        extra ? { optimizer, params, extra: { name: extra } } : { optimizer, params },
      ),
    };
    return { body, runs, key: JSON.stringify(body) };
  }

  update() {
    this.translate();
    const { key } = this.request();
    if (key === this.key) {
      this.relabel();
      this.draw();
      return;
    }
    clearTimeout(this.timer);
    // A slider drag changes the scene many times a second; search once it rests.
    this.timer = setTimeout(() => this.start(false), 300);
  }

  resize() {
    // A redraw, not Plotly.Plots.resize: the rows' split is laid out in pixels.
    this.draw();
  }

  relabel() {
    const scene = this.ctx.request();
    for (const run of this.runs) {
      const now = scene.runs.find((r) => r.optimizer === run.optimizer);
      if (now) Object.assign(run, { label: now.label, color: now.color });
    }
    this.renderTable();
  }

  /** Start the searches (`replay`: again, even if the scene is unchanged). */
  start(replay) {
    const { body, runs, key } = this.request();
    if (!replay && key === this.key) return;
    this.key = key;
    this.seed = body.seed;
    clearTimeout(this.revealTimer);
    this.revealTimer = null;
    this.message.hidden = true;
    this.view = null;
    this.finished = false;
    this.selected = Math.min(this.selected, Math.max(0, runs.length - 1));
    this.runs = runs.map((run) => ({
      ...run,
      space: this.space(run.optimizer, run.extra),
      methods: Object.fromEntries(
        METHODS.map((m) => [m, { trials: [], shown: 0, snapshots: new Map(), queue: [] }]),
      ),
    }));
    this.root.dataset.state = runs.length ? "running" : "idle";
    if (!runs.length) {
      this.setStatus(this.ctx.t("maps.tune.empty"));
      this.renderTable();
      this.draw();
      return;
    }
    this.setStatus(this.ctx.t("maps.tune.running", { n: 0, total: this.total() }));
    this.renderTable();
    this.draw();
    this.channel.send(body);
  }

  /** The searched space [{name, low, high, log}] as the server defaults it (its meta wins). */
  space(optimizer, extra) {
    const specs = this.ctx.optimizer(optimizer)?.params ?? [];
    const lr = specs.find((p) => p.name === "lr") ?? { min: 1e-4, max: 10 };
    const dims = [
      { name: "lr", low: Math.max(lr.min, 1e-4), high: Math.min(lr.max, 10), log: true },
    ];
    if (extra) {
      const p = specs.find((s) => s.name === extra);
      if (p) dims.push({ name: extra, low: p.min, high: p.max, log: Boolean(p.log) });
    }
    return dims;
  }

  total() {
    return this.runs.length * METHODS.length * this.budget;
  }

  onMeta(message) {
    for (const [i, info] of (message.runs ?? []).entries()) {
      const run = this.runs[i];
      if (!run) continue;
      if (Array.isArray(info.space)) {
        run.space = info.space.map((d) => ({ name: d.name, low: d.min, high: d.max, log: d.log }));
      }
      if (Array.isArray(info.grid)) run.grid = info.grid;
    }
    if (message.f_star !== undefined) this.fStar = message.f_star;
  }

  onTrial(message) {
    const run = this.runs[message.run];
    const search = run?.methods[message.method];
    if (!search) return;
    const trial = {
      index: message.index,
      values: message.values,
      score: message.score === null ? Number.POSITIVE_INFINITY : message.score,
      gap: message.gap,
    };
    search.queue.push(trial);
    if (message.snapshot) {
      search.snapshots.set(message.snapshot.after, decodeSnapshot(message.snapshot));
    }
    this.revealSoon();
  }

  onDone(message) {
    this.finished = true;
    if (message.f_star !== undefined) this.fStar = message.f_star;
    this.revealSoon();
  }

  onError(detail) {
    this.finished = true;
    clearTimeout(this.revealTimer);
    this.revealTimer = null;
    this.root.dataset.state = "error";
    this.message.textContent = this.ctx.t("maps.tune.error", { detail });
    this.message.hidden = false;
    this.setStatus("");
  }

  revealSoon() {
    if (this.revealTimer === null) this.revealTimer = setTimeout(() => this.reveal(), REVEAL_MS);
  }

  /** Show the next trial of every search that has one waiting; again until all are shown. */
  reveal() {
    this.revealTimer = null;
    let more = false;
    for (const run of this.runs) {
      for (const search of Object.values(run.methods)) {
        const next = search.queue.shift();
        if (next) search.trials.push(next);
        if (search.queue.length) more = true;
      }
    }
    const shown = this.runs.reduce(
      (sum, run) => sum + METHODS.reduce((s, m) => s + run.methods[m].trials.length, 0),
      0,
    );
    if (more) this.revealSoon();
    const complete = this.finished && !more && shown >= this.total();
    this.setStatus(
      complete
        ? this.ctx.t("maps.tune.done", { seed: this.seed })
        : this.ctx.t("maps.tune.running", { n: shown, total: this.total() }),
    );
    if (complete) {
      this.root.dataset.state = "done";
      this.last = {
        runs: this.runs.map((run) => ({
          optimizer: run.optimizer,
          space: run.space,
          best: Object.fromEntries(METHODS.map((m) => [m, bestOf(run.methods[m].trials)])),
          trials: Object.fromEntries(METHODS.map((m) => [m, run.methods[m].trials.length])),
        })),
      };
    } else if (this.finished && !more && shown < this.total()) {
      this.root.dataset.state = "done"; // the server stopped early (an error says why)
    }
    this.renderTable();
    this.draw();
    if (complete) this.drawnSeq += 1;
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  /** How many trials per method the chart shows: the slider's, else all revealed. */
  shownCount() {
    const run = this.runs[this.selected];
    if (!run) return 0;
    const revealed = Math.max(...METHODS.map((m) => run.methods[m].trials.length));
    return this.view === null ? revealed : Math.min(this.view, revealed);
  }

  showTrials(k) {
    const run = this.runs[this.selected];
    if (!run) return;
    const revealed = Math.max(...METHODS.map((m) => run.methods[m].trials.length));
    const v = Math.max(1, Math.min(revealed, k));
    this.view = v >= revealed && this.root.dataset.state !== "done" ? null : v;
    this.draw();
  }

  /** The trial the race uses for run `run` under the method select. */
  chosen(run) {
    const which = this.whichSelect.value;
    const candidates = (which === "best" ? METHODS : [which])
      .map((m) => ({ method: m, trial: bestOf(run.methods[m].trials) }))
      .filter((c) => c.trial);
    candidates.sort((a, b) => a.trial.score - b.trial.score);
    return candidates[0] ?? null;
  }

  raceAtBest() {
    const values = {};
    for (const run of this.runs) {
      const choice = this.chosen(run);
      if (!choice) continue;
      values[run.optimizer] = Object.fromEntries(
        run.space.map((dim, k) => [dim.name, choice.trial.values[k]]),
      );
    }
    if (Object.keys(values).length) this.ctx.setManyParams(values);
  }

  renderTable() {
    const { t } = this.ctx;
    this.renderShow();
    const head = el("thead");
    const row = el("tr");
    const corner = el("th", "tune-corner");
    corner.textContent = t("maps.tune.tableHead");
    row.append(corner);
    for (const m of METHODS) {
      const th = el("th", `method-${m}`);
      th.textContent = t(`maps.tune.method.${m}`);
      row.append(th);
    }
    head.append(row);
    const body = el("tbody");
    this.runs.forEach((run, i) => {
      const tr = el("tr", i === this.selected ? "selected" : "", {
        "data-testid": `tune-row-${run.optimizer}`,
        "aria-selected": String(i === this.selected),
      });
      const name = el("th", "tune-name", { scope: "row" });
      const swatch = el("span", "basins-swatch");
      swatch.style.background = run.color;
      name.append(swatch, document.createTextNode(run.label));
      tr.append(name);
      const choice = this.chosen(run);
      for (const m of METHODS) {
        const td = el("td", "", { "data-method": m });
        const best = bestOf(run.methods[m].trials);
        if (best) {
          td.textContent = this.describe(run, best);
          td.dataset.lr = String(best.values[0]);
          td.dataset.score = String(best.score);
          td.title = t("maps.tune.bestTitle", { method: t(`maps.tune.method.${m}`) });
          if (choice?.method === m) td.classList.add("chosen");
        } else {
          td.textContent = run.methods[m].trials.length ? t("maps.tune.allDiverged") : "…";
        }
        tr.append(td);
      }
      tr.addEventListener("click", () => this.select(i));
      body.append(tr);
    });
    this.table.replaceChildren(head, body);
    this.raceButton.disabled = !this.runs.some((run) => this.chosen(run));
  }

  /** Show run i's searches. */
  select(i) {
    this.selected = i;
    this.view = null;
    this.renderTable();
    this.draw();
  }

  /** The optimizer select: one option per run. */
  renderShow() {
    const options = this.runs.map((run, i) => {
      const option = el("option", "", { value: String(i) });
      option.textContent = run.label;
      return option;
    });
    this.showSelect.replaceChildren(...options);
    this.showSelect.value = String(this.selected);
    this.showSelect.disabled = this.runs.length < 2;
  }

  /** "η 0.0316, μ 0.9 → 10^−7.9": the values and the score (log₁₀ gap). */
  describe(run, trial) {
    const values = run.space
      .map((dim, k) => `${this.symbol(dim.name)} ${short(trial.values[k])}`)
      .join(", ");
    return `${values} → ${short(trial.score)}`;
  }

  symbol(name) {
    const key = `maps.tune.symbol.${name}`;
    const text = this.ctx.t(key);
    return text === key ? name : text;
  }

  // ---------------------------------------------------------------- the chart

  draw() {
    if (!window.Plotly) return;
    const run = this.runs[this.selected];
    const revealed = run ? Math.max(...METHODS.map((m) => run.methods[m].trials.length)) : 0;
    const count = this.shownCount();
    this.slider.max = String(Math.max(1, revealed));
    this.slider.value = String(Math.max(1, count));
    this.slider.disabled = revealed < 2;
    this.back.disabled = count <= 1;
    this.forward.disabled = count >= revealed;
    this.stepLabel.textContent = run
      ? this.ctx.t("maps.tune.step", { k: count, budget: this.budget })
      : "";
    if (!run) {
      Plotly.purge(this.chart);
      return;
    }
    const figure = this.figure(run, count);
    // Drawn at the box's measured size (Plotly.react would keep the size of the last draw).
    figure.layout.width = Math.max(200, this.chart.clientWidth);
    figure.layout.height = Math.max(150, this.chart.clientHeight);
    const config = { displaylogo: false, responsive: false, displayModeBar: false };
    Plotly.react(this.chart, figure.data, figure.layout, config);
    this.chart.dataset.shown = String(count);
  }

  theme() {
    const presentation = isPresentation();
    return presentation
      ? {
          font: 16,
          small: 14,
          text: "#ffffff",
          grid: "#444",
          paper: "#000000",
          marker: 11,
          eiFill: "rgba(255, 255, 255, 0.35)",
        }
      : {
          font: 12,
          small: 11,
          text: "#1f2328",
          grid: "#e3e6ea",
          paper: "#ffffff",
          marker: 8,
          eiFill: "rgba(31, 35, 40, 0.25)",
        };
  }

  /** Three column domains (x) and, for 1-D, the top row and the EI row (y). */
  frame() {
    const gap = 0.05;
    const width = (1 - 2 * gap) / 3;
    return METHODS.map((_, c) => [c * (width + gap), c * (width + gap) + width]);
  }

  /** The score axis, shared by the three methods: every finite score of this run. */
  scoreRange(run) {
    const scores = METHODS.flatMap((m) => run.methods[m].trials.map((tr) => tr.score)).filter(
      Number.isFinite,
    );
    if (!scores.length) return [-1, 1];
    const lo = Math.min(...scores);
    const hi = Math.max(...scores);
    const pad = Math.max(0.5, 0.08 * (hi - lo));
    return [lo - pad, hi + pad * 2.2]; // room above for diverged trials
  }

  snapshotFor(run, count) {
    // The surrogate fitted to the first `count` trials (after = count − 1), if there is one.
    const snapshots = run.methods.bayes.snapshots;
    for (let after = count - 1; after >= 0; after -= 1) {
      if (snapshots.has(after)) return snapshots.get(after);
    }
    return null;
  }

  gridAxes(run) {
    if (run.grid) return run.grid;
    const n = run.space.length === 1 ? 128 : 32;
    return run.space.map((dim) =>
      dim.log
        ? linspace(Math.log10(dim.low), Math.log10(dim.high), n).map((v) => 10 ** v)
        : linspace(dim.low, dim.high, n),
    );
  }

  /** The chart: per method a column of trials over the searched space, the surrogate
   * (mean, ±2σ in 1-D; mean as a map in 2-D) in Bayesian optimization's column and its
   * expected improvement under it; a line of words under grid and random search. */
  figure(run, count) {
    const th = this.theme();
    const { t } = this.ctx;
    const two = run.space.length === 2;
    const domains = this.frame();
    // The expected improvement's row, in pixels: a share of the chart, then the room the
    // top row's tick labels and axis title need.
    const plotHeight = Math.max(150, (this.chart.clientHeight || 400) - 90);
    const eiHeight = Math.min(two ? 170 : 130, Math.max(50, (two ? 0.3 : 0.22) * plotHeight));
    const eiDomain = [0, eiHeight / plotHeight];
    const top = [(eiHeight + 4.4 * th.font + 12) / plotHeight, 1];
    const [lo, hi] = this.scoreRange(run);
    const [lrDim, extraDim] = run.space;
    const xRange = padded(logRange(lrDim));
    // 1-D: the score against lr; 2-D: the second hyperparameter against lr, scores as colour.
    const y = two
      ? {
          type: extraDim.log ? "log" : "linear",
          range: padded(extraDim.log ? logRange(extraDim) : [extraDim.low, extraDim.high]),
          title: this.symbol(extraDim.name),
        }
      : { type: "linear", range: [lo, hi], title: t("maps.tune.scoreAxis") };
    const layout = {
      paper_bgcolor: th.paper,
      plot_bgcolor: th.paper,
      font: { size: th.font, color: th.text },
      margin: { l: 58, r: two ? 80 : 14, t: 46, b: 44 },
      showlegend: false,
      hovermode: "closest",
      annotations: [],
      shapes: [],
    };
    if (two) {
      layout.coloraxis = {
        cmin: lo,
        cmax: hi,
        colorscale: "Viridis",
        colorbar: {
          title: { text: t("maps.tune.scoreAxis"), side: "right" },
          len: 0.58,
          y: 1,
          yanchor: "top",
          thickness: 12,
          x: 1.01,
        },
      };
    }
    // Where a trial is drawn; a diverged one in 1-D at the top edge (its score is +∞).
    const ceiling = hi - 0.04 * (hi - lo);
    const at = (tr) =>
      two
        ? [tr.values[0], tr.values[1]]
        : [tr.values[0], Number.isFinite(tr.score) ? tr.score : ceiling];
    const data = [];
    METHODS.forEach((method, c) => {
      const n = c === 0 ? "" : String(c + 1);
      const trials = run.methods[method].trials.slice(0, count);
      layout[`xaxis${n}`] = lrAxis(th, domains[c], xRange, `y${n}`, t("maps.tune.lrAxis"));
      layout[`yaxis${n}`] = {
        type: y.type,
        domain: top,
        range: y.range,
        anchor: `x${n}`,
        gridcolor: th.grid,
        zeroline: false,
        title: c === 0 ? { text: y.title, standoff: 4 } : undefined,
      };
      layout.annotations.push(this.columnTitle(run, method, trials, th, domains[c]));
      const snapshot = method === "bayes" ? this.snapshotFor(run, count) : null;
      if (snapshot) {
        const grid = this.gridAxes(run);
        this.eiAxes(layout, th, domains[c], eiDomain, xRange, two ? y : null);
        data.push(
          ...(two ? this.surrogate2d : this.surrogate1d).call(this, run, snapshot, grid, th),
        );
        this.nextTrial(snapshot, two, data, layout, th);
      } else {
        const words = method === "bayes" ? "maps.tune.warmup" : `maps.tune.about.${method}`;
        layout.annotations.push(note(t(words), domains[c], eiDomain[1], th));
      }
      data.push(
        ...this.trialTraces(run, method, trials, { xaxis: `x${n}`, yaxis: `y${n}` }, at, th, two),
      );
    });
    return { data, layout };
  }

  /** Column title: the method, and the best trial it has found so far. */
  columnTitle(run, method, trials, th, domain) {
    const { t } = this.ctx;
    const best = bestOf(trials);
    const line = best ? t("maps.tune.bestLine", { values: this.describe(run, best) }) : "";
    return {
      text: `<b>${t(`maps.tune.method.${method}`)}</b>${line ? `<br><span style="font-size:${th.small}px">${line}</span>` : ""}`,
      xref: "paper",
      yref: "paper",
      x: (domain[0] + domain[1]) / 2,
      y: 1,
      yanchor: "bottom",
      yshift: 4,
      showarrow: false,
      font: { size: th.font, color: th.text },
    };
  }

  /** A column's trials: finite ones (dots), diverged ones (×), the newest (ringed while the
   * search runs or the slider steps), the best (★). */
  trialTraces(run, method, trials, axes, at, th, two) {
    const { t } = this.ctx;
    const ok = trials.filter((tr) => Number.isFinite(tr.score));
    const failed = trials.filter((tr) => !Number.isFinite(tr.score));
    const where = `η = %{x:.3g}${two ? `<br>${this.symbol(run.space[1].name)} = %{y:.3g}` : ""}`;
    const score = "log₁₀(f − f*) = %{customdata:.2f}";
    const points = (list) => ({ x: list.map((tr) => at(tr)[0]), y: list.map((tr) => at(tr)[1]) });
    const traces = [
      {
        type: "scatter",
        mode: "markers",
        ...axes,
        ...points(ok),
        customdata: ok.map((tr) => tr.score),
        text: ok.map((tr) => t("maps.tune.trialHover", { i: tr.index + 1 })),
        hovertemplate: `%{text}<br>${where}<br>${score}<extra></extra>`,
        marker: two
          ? {
              size: th.marker + 1,
              color: ok.map((tr) => tr.score),
              coloraxis: "coloraxis",
              line: { color: "#ffffff", width: 1 },
            }
          : { size: th.marker, color: run.color, line: { color: th.paper, width: 1 } },
        name: `${method}-trials`,
      },
      {
        type: "scatter",
        mode: "markers",
        ...axes,
        ...points(failed),
        text: failed.map((tr) => t("maps.tune.divergedHover", { i: tr.index + 1 })),
        hovertemplate: `%{text}<br>${where}<extra></extra>`,
        marker: { size: th.marker, symbol: "x-thin-open", color: "#b42318", line: { width: 2 } },
        name: `${method}-diverged`,
      },
    ];
    const latest = trials[trials.length - 1];
    if (latest && (this.root.dataset.state === "running" || this.view !== null)) {
      traces.push({
        type: "scatter",
        mode: "markers",
        ...axes,
        ...points([latest]),
        hoverinfo: "skip",
        marker: {
          size: th.marker * 2.2,
          symbol: "circle-open",
          color: th.text,
          line: { width: 1.5 },
        },
        name: `${method}-latest`,
      });
    }
    const best = bestOf(trials);
    if (best) {
      traces.push({
        type: "scatter",
        mode: "markers",
        ...axes,
        x: [best.values[0]],
        y: [two ? best.values[1] : best.score],
        customdata: [best.score],
        hovertemplate: `${t("maps.tune.bestHover")}<br>${where}<br>${score}<extra></extra>`,
        marker: {
          size: th.marker * 2.3,
          symbol: "star",
          color: "#F0E442",
          line: { color: "#000000", width: 1.2 },
        },
        name: `${method}-best`,
      });
    }
    return traces;
  }

  /** The axes of the expected improvement, under Bayesian optimization's column. */
  eiAxes(layout, th, domain, eiDomain, xRange, y) {
    layout.xaxis4 = {
      ...lrAxis(th, domain, xRange, "y4", null),
      showticklabels: false,
      matches: "x3",
    };
    layout.yaxis4 = {
      domain: eiDomain,
      anchor: "x4",
      gridcolor: th.grid,
      zeroline: false,
      title: { text: this.ctx.t("maps.tune.eiAxis"), standoff: 2, font: { size: th.small } },
      ...(y ? { type: y.type, range: y.range } : { rangemode: "tozero", showticklabels: false }),
    };
  }

  /** 1-D: the surrogate's mean and ±2σ band over lr, the expected improvement beneath. */
  surrogate1d(run, snapshot, [lrs], th) {
    const { t } = this.ctx;
    const upper = snapshot.mean.map((m, k) => m + 2 * snapshot.std[k]);
    const lower = snapshot.mean.map((m, k) => m - 2 * snapshot.std[k]);
    const line = (y, extra) => ({
      type: "scatter",
      mode: "lines",
      xaxis: "x3",
      yaxis: "y3",
      x: lrs,
      y,
      ...extra,
    });
    return [
      line(lower, { line: { width: 0 }, hoverinfo: "skip", name: "band-lower" }),
      line(upper, {
        fill: "tonexty",
        fillcolor: alpha(run.color, 0.2),
        line: { width: 0 },
        hoverinfo: "skip",
        name: "band-upper",
      }),
      line(snapshot.mean, {
        line: { color: run.color, width: 2.5 },
        hovertemplate: `${t("maps.tune.meanHover")}<br>η = %{x:.3g}<br>%{y:.2f}<extra></extra>`,
        name: "mean",
      }),
      {
        type: "scatter",
        mode: "lines",
        xaxis: "x4",
        yaxis: "y4",
        x: lrs,
        y: snapshot.ei,
        fill: "tozeroy",
        fillcolor: th.eiFill,
        line: { color: th.text, width: 1.2 },
        hovertemplate: `${t("maps.tune.eiHover")}<br>η = %{x:.3g}<br>%{y:.3g}<extra></extra>`,
        name: "ei",
      },
    ];
  }

  /** 2-D: the surrogate's mean as a map under the trials, the expected improvement beneath. */
  surrogate2d(run, snapshot, [lrs, extras], th) {
    const { t } = this.ctx;
    const where = `η = %{x:.3g}<br>${this.symbol(run.space[1].name)} = %{y:.3g}`;
    return [
      {
        type: "heatmap",
        xaxis: "x3",
        yaxis: "y3",
        x: lrs,
        y: extras,
        z: snapshot.mean,
        coloraxis: "coloraxis",
        opacity: 0.85,
        hovertemplate: `${t("maps.tune.meanHover")}<br>${where}<br>%{z:.2f}<extra></extra>`,
        name: "mean",
      },
      {
        type: "heatmap",
        xaxis: "x4",
        yaxis: "y4",
        x: lrs,
        y: extras,
        z: snapshot.ei,
        colorscale: [
          [0, th.paper],
          [1, run.color],
        ],
        showscale: false,
        hovertemplate: `${t("maps.tune.eiHover")}<br>${where}<br>%{z:.3g}<extra></extra>`,
        name: "ei",
      },
    ];
  }

  /** Where the expected improvement sends the next trial: a dotted line (1-D), an × (2-D). */
  nextTrial(snapshot, two, data, layout, th) {
    const { t } = this.ctx;
    const next = snapshot.next;
    if (!next) return;
    if (two) {
      data.push({
        type: "scatter",
        mode: "markers",
        xaxis: "x4",
        yaxis: "y4",
        x: [next[0]],
        y: [next[1]],
        marker: {
          size: th.marker * 1.6,
          symbol: "x-thin-open",
          color: th.text,
          line: { width: 2 },
        },
        hovertemplate: `${t("maps.tune.next")}<extra></extra>`,
        name: "next",
      });
      return;
    }
    for (const axis of ["3", "4"]) {
      layout.shapes.push({
        type: "line",
        xref: `x${axis}`,
        yref: `y${axis} domain`,
        x0: next[0],
        x1: next[0],
        y0: 0,
        y1: 1,
        line: { color: th.text, width: 1.2, dash: "dot" },
      });
    }
    layout.annotations.push({
      text: t("maps.tune.next"),
      xref: "x4",
      yref: "y4 domain",
      x: Math.log10(next[0]),
      y: 1,
      yanchor: "bottom",
      showarrow: false,
      font: { size: th.small, color: th.text },
    });
  }
}
