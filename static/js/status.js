// The status table: per run, f at the cursor, the final f, how the run ends and at which
// step. How it ends is the server's: `status` of the WebSocket's done message, classified
// from the whole path and the landscape's Hessian (optimizers/status.py), with its words in
// every language (static/i18n `status.<code>`, filled in by app.scene), so the page, the
// API, the handout and the CLI say the same thing.

import { lang } from "./i18n.js";
import { runKey } from "./legend.js";

// Above this many runs the table is set tighter (app.css .status table.many).
const MANY_RUNS = 6;

// A longer name ("Simulated annealing", 遺伝的アルゴリズム) may wrap rather than push the
// numbers out of the column (gradient_free.css); the shorter ones keep their one line.
const LONG_NAME = 14; // in widths of a Latin letter: a CJK character counts two

const nameWidth = (text) => [...text].reduce((n, c) => n + (c.codePointAt(0) >= 0x2e80 ? 2 : 1), 0);

// The row's colour class per status code (app.css styles these classes).
const TONE = {
  diverged: "diverged",
  settled_global: "converged",
  settled_local: "trapped",
  stalled_saddle: "trapped",
  oscillating: "open",
  hovering: "open",
  moving: "open",
};

/** A loss in at most 7 characters: 3 significant digits, or 1.2e−7 outside [1e-3, 1e4).
 * Minus signs are U+2212, as on the charts' axes (a hyphen reads as a dash on a projector). */
export function fmtLoss(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (v === 0) return "0";
  const a = Math.abs(v);
  // toPrecision(3) writes 3030 as "3.03e+3": whole numbers from 1000 on are rounded instead.
  let text;
  if (a >= 1e4 || a < 1e-3) text = v.toExponential(1).replace("e+", "e");
  else if (a >= 1e3) text = String(Math.round(v));
  else text = v.toPrecision(3);
  return text.replaceAll("-", "\u2212");
}

/** f at the cursor: none once the cursor is past the step the run diverged at (the
 * last finite value, 5e11 say, is not what f is "at step 100"). */
function lossAtCursor(run, cursor) {
  if (!run.n) return null;
  if (run.diverged_at !== null && run.diverged_at !== undefined && cursor >= run.diverged_at) {
    return null;
  }
  return run.losses[Math.min(run.n, cursor + 1) - 1];
}

const html = (text) =>
  String(text).replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c],
  );

/** The run's status in the page's language ("Running…" while it streams). */
export function statusWords(run, t) {
  if (!run.complete || !run.status) return t("status.running");
  const text = run.status.text || {};
  return text[lang()] ?? text.en ?? run.status.code;
}

/** What a run asked for, in words: "∇f × 500" (gradients) or "f × 9,520" (values of f);
 * "" before its done message. The server counts (Optimizer.evaluations). */
export function evaluationsText(run, t) {
  if (!run.complete || run.evaluations === null || run.evaluations === undefined) return "";
  const n = run.evaluations.toLocaleString("en-US");
  return t(run.gradient === false ? "status.evaluations.value" : "status.evaluations.gradient", {
    n,
  });
}

export function renderStatus(el, { runs, cursor, t, complete }) {
  // A race with a gradient-free method compares budgets: every run says what it asked for,
  // gradients or values of f.
  const budgets = runs.some((run) => run.gradient === false);
  const rows = runs.map((run) => {
    const atCursor = lossAtCursor(run, cursor);
    const code = run.complete && run.status ? run.status.code : "running";
    const tone = TONE[code] || "running";
    const step = run.complete && run.status?.step != null ? run.status.step : "—";
    const evaluations = budgets ? evaluationsText(run, t) : "";
    const budget = evaluations
      ? `<span class="evaluations" data-testid="evaluations" title="${html(t("status.evaluationsTitle"))}">${html(evaluations)}</span>`
      : "";
    return `<tr class="${tone}" data-optimizer="${html(run.optimizer)}" data-status="${code}">
      <th scope="row"${nameWidth(run.title) > LONG_NAME ? ' class="wrap"' : ""}>${runKey(run, 11)}${html(run.title)}</th>
      <td class="num">${fmtLoss(atCursor)}</td>
      <td class="num">${run.complete ? fmtLoss(run.final_loss) : "…"}</td>
      <td class="num">${step}</td>
    </tr><tr class="outcome ${tone}" data-status="${code}"><td colspan="4">${budget}${html(statusWords(run, t))}</td></tr>`;
  });
  // Many runs (up to twelve): tighter rows, so the whole race fits the column.
  const many = runs.length > MANY_RUNS ? ' class="many"' : "";
  el.innerHTML = `<table${many}><colgroup><col class="c-name"><col><col><col></colgroup>
    <thead><tr>
      <th scope="col">${t("status.optimizer")}</th>
      <th scope="col" class="num">${t("status.lossAt", { step: cursor })}</th>
      <th scope="col" class="num">${t("status.finalLoss")}</th>
      <th scope="col" class="num">${t("status.stepCol")}</th>
    </tr></thead>
    <tbody>${rows.join("")}</tbody></table>`;
  el.dataset.complete = complete ? "true" : "false";
}
