// Where the stage's space goes: the main plot is the star at every size.
// Two arrangements: "side" (loss chart and status in a column right of the plot) and
// "below" (under it, in two columns); in presentation mode a third, "split" (status in a
// column, the loss chart under the plot), where a wide landscape would leave a band empty. For the scene on screen — the landscape's aspect
// ratio, overlay or side by side, normal or presentation — both are tried and the one
// giving the plot's axes more area wins. The plot then takes only the size its
// equal-scale axes can fill; the rest goes to the loss chart and status, so a wide bowl is
// not a strip floating in empty space. A narrow normal page (a 1024×768 projector) always
// puts them below and lets the stage scroll. Presentation mode keeps the main plot at
// least half the viewport. CSS (app.css) reads the decision from the stage's data-arrange
// and --main-w / --main-h; this module only measures and decides.

import { t } from "./i18n.js";
import { landscapeMeta, state, subscribe } from "./state.js";

const $ = (id) => document.getElementById(id);

// Below this stage width a normal page stacks the plot over the loss chart and scrolls.
const NARROW_STAGE = 900;
// Room the loss chart and status need: a column's width, or a row's height when below.
const SIDE_MIN = { normal: 320, presentation: 400 };
const BELOW_MIN = { normal: 250, presentation: 250 };
// …and when a run is shown from inside (inside.js): its equations need the room.
const INSIDE_SIDE_MIN = { normal: 400, presentation: 480 };
const INSIDE_BELOW_MIN = { normal: 330, presentation: 330 };
const SIDE_SHARE = 0.24; // presentation: the column keeps this share of the viewport's width
// …and the least presentation mode leaves them, to keep the plot half the viewport (in a
// column that narrow, app.css sets the status table in smaller type).
const SIDE_FLOOR = 360;
const BELOW_FLOOR = 200;
// The plot's own margins around its axes (axis labels, colour bar, legend rows), roughly as
// plot.js lays them out; only used to decide, so a few pixels off costs a little space.
const MARGINS = {
  normal: { x: 146, y: 108 },
  presentation: { x: 176, y: 146 },
  panel: { x: 44, y: 64 }, // one side-by-side panel: compact axes plus its name
};
const PANEL_MIN = 230; // side-by-side panels narrower than this wrap to more rows
// "split" (presentation, a wide landscape beside the column): the plot's column is wider
// than its axes need height for, so the loss chart moves under the plot and the status
// table keeps a column of this width (a share of the viewport, within these bounds) …
const SPLIT_STATUS = { share: 0.24, min: 330, max: 520 };
// … and the column holding the optimizer's inside (inside.js) over the status table.
const SPLIT_INSIDE = { share: 0.3, min: 400, max: 600 };
const INSIDE_SPLIT_AREA = 0.55;
const INSIDE_LOSS_MIN = { normal: 170, presentation: 210 };
const INSIDE_SCROLL_MIN = 200;
// … when the loss chart gets at least this height, and the plot keeps this share of the
// area it would have beside the full column (the chart replaces an empty band).
const SPLIT_LOSS_MIN = 200;
const SPLIT_AREA = 0.85;
const GAP = 6;

/** Width/height of the landscape's default view (the equal-scale axes keep it). */
function domainAspect() {
  const meta = landscapeMeta();
  if (!meta) return 1;
  const [[x0, x1], [y0, y1]] = meta.bounds;
  const aspect = (x1 - x0) / (y1 - y0);
  return Number.isFinite(aspect) && aspect > 0 ? aspect : 1;
}

/** Columns of side-by-side panels: as plot.js chooses them, fewer when they get narrow. */
function panelColumns(n, width) {
  let cols = n <= 3 ? n : n === 4 ? 2 : 3;
  while (cols > 1 && (width - GAP * (cols - 1)) / cols < PANEL_MIN) cols -= 1;
  return Math.max(1, cols);
}

/**
 * The axes' area in a box of w×h, and the box the plot really needs there
 * ({area, w, h, cols}); w/h shrink to what equal-scale axes fill (overlay contour only).
 */
function fit(w, h, look) {
  if (w <= 0 || h <= 0) return { area: 0, w: 0, h: 0, cols: 1 };
  if (look.kind === "surface") return { area: w * h * 0.6, w, h, cols: 1 };
  const aspect = look.aspect;
  if (look.kind === "panels") {
    const cols = panelColumns(look.n, w);
    const rows = Math.ceil(look.n / cols);
    const cellW = (w - GAP * (cols - 1)) / cols - MARGINS.panel.x;
    const cellH = (h - GAP * (rows - 1)) / rows - MARGINS.panel.y;
    const axesW = Math.max(0, Math.min(cellW, cellH * aspect));
    // Rows only as tall as their axes need; the loss chart and status get the rest.
    const needH = rows * (axesW / aspect + MARGINS.panel.y) + GAP * (rows - 1);
    return { area: look.n * axesW * (axesW / aspect), w, h: Math.min(h, needH), cols };
  }
  const m = look.margins;
  const axesW = Math.max(0, Math.min(w - m.x, (h - m.y) * aspect));
  return {
    area: axesW * (axesW / aspect),
    w: Math.min(w, axesW + m.x),
    h: Math.min(h, axesW / aspect + m.y),
    cols: 1,
  };
}

function currentLook() {
  const presentation = state.presentation;
  if (state.mode === "side_by_side")
    return { kind: "panels", n: Math.max(1, state.optimizers.length), aspect: domainAspect() };
  if (state.view === "surface") return { kind: "surface" };
  return {
    kind: "contour",
    aspect: domainAspect(),
    margins: presentation ? MARGINS.presentation : MARGINS.normal,
  };
}

/** Decide the arrangement for the stage's current size and write it for the CSS. */
export function applyLayout() {
  const stage = $("stage");
  const toolbar = stage?.querySelector(".toolbar");
  if (!stage || !toolbar || !landscapeMeta()) return;
  const presentation = state.presentation;
  const kind = presentation ? "presentation" : "normal";
  const hint = $("plot-hint");
  const hintH = hint && !hint.hidden ? hint.offsetHeight : 0;
  const W = stage.clientWidth;
  const H = stage.clientHeight - toolbar.offsetHeight;
  const look = currentLook();
  // Half the viewport for the main plot itself: its wrapper's padding comes on top.
  const half = 0.5 * window.innerWidth * window.innerHeight + 12 * (W + H);

  const scroll = !presentation && W < NARROW_STAGE;
  // Side: the plot takes what its axes fill, at most all but the column's minimum width.
  // A projector's wide screen gives the column (and its type, app.css) a share of its width.
  const inspecting = state.inspect.some((name) => state.optimizers.includes(name));
  const sides = inspecting ? INSIDE_SIDE_MIN : SIDE_MIN;
  const belowMin = (inspecting ? INSIDE_BELOW_MIN : BELOW_MIN)[kind];
  const sideMin = presentation
    ? Math.max(sides.presentation, (inspecting ? 0.3 : SIDE_SHARE) * window.innerWidth)
    : sides.normal;
  let sideW = fit(W - sideMin, H - hintH, look).w;
  // Below: the plot takes what its axes fill, at most all but the row's minimum height.
  // A narrow page scrolls, but the inside's Next button stays on the first screen.
  const scrollMin = inspecting ? INSIDE_SCROLL_MIN : 0;
  let belowH = fit(W, scroll ? H - hintH - scrollMin : H - hintH - belowMin, look).h + hintH;
  let sideOK = true;
  let belowOK = true;
  if (presentation) {
    // The main plot keeps at least half the viewport, whatever its shape: the loss chart
    // and status give up room down to a floor, and an arrangement that cannot is out.
    const needW = half / Math.max(H, 1);
    const needH = half / Math.max(W, 1);
    sideW = Math.min(W - SIDE_FLOOR, Math.max(sideW, needW));
    belowH = Math.min(H - BELOW_FLOOR, Math.max(belowH, needH));
    sideOK = sideW >= needW;
    belowOK = belowH >= needH;
  }
  const sideArea = fit(sideW, H - hintH, look).area;
  const belowArea = fit(W, belowH - hintH, look).area;
  // Ties go to the side column: the loss chart and status stay in view at full height.
  let arrange = belowArea > 1.1 * sideArea ? "below" : "side";
  if (sideOK !== belowOK) arrange = sideOK ? "side" : "below";
  if (scroll) arrange = "below";
  let used = fit(arrange === "side" ? sideW : W, (arrange === "side" ? H : belowH) - hintH, look);
  // Shown from inside, the optimizer's column is worth more than a bigger plot: split is
  // tried from "below" too, and taken at a smaller share of the plot's best area.
  const splits = (presentation && arrange === "side") || (inspecting && !scroll);
  if (splits && look.kind === "contour" && $("lr-plot")?.hidden) {
    // A wide bowl beside the column leaves an empty band under its axes: the loss chart
    // takes it, and the plot the width the loss chart gave up.
    const column = inspecting ? SPLIT_INSIDE : SPLIT_STATUS;
    const statusW = Math.min(column.max, Math.max(column.min, column.share * W));
    // Shown from inside, the plot leaves the loss chart its least height under it.
    const lossMin = inspecting ? INSIDE_LOSS_MIN[kind] : SPLIT_LOSS_MIN;
    const split = fit(W - statusW, H - (inspecting ? lossMin : 0), look);
    // (Shown from inside, presentation too gives the plot's half to the optimizer's column.)
    const fitsHalf = !presentation || inspecting || (W - statusW) * split.h >= half;
    const best = inspecting
      ? INSIDE_SPLIT_AREA * Math.max(sideArea, belowArea)
      : SPLIT_AREA * sideArea;
    if (H - split.h >= lossMin && fitsHalf && split.area >= best) {
      arrange = "split";
      sideW = W - statusW;
      belowH = split.h;
      used = split;
    }
  }
  // Below, a plot narrower than the stage sits in its middle, not against one edge (with
  // some slack: the margins above are estimates). Presentation keeps the full width: its
  // plot's box stays half the viewport.
  const narrow = arrange === "below" && look.kind === "contour" && !presentation;
  const fitW = narrow ? `${Math.ceil(used.w) + 40}px` : "100%";
  stage.dataset.arrange = arrange;
  stage.toggleAttribute("data-scroll", scroll);
  stage.style.setProperty("--main-w", `${Math.floor(sideW)}px`);
  stage.style.setProperty("--main-h", `${Math.floor(belowH)}px`);
  stage.style.setProperty("--fit-cols", String(used.cols));
  stage.style.setProperty("--main-fit-w", fitW);
  // The exit button's short word, shown where its full text leaves no room (app.css).
  $("present").dataset.short = t("present.short");
  fitTitle(toolbar);
}

/** The toolbar never wraps: a scene title that no longer fits leaves it (the preset and
 * landscape selects and the window title still name the scene). */
function fitTitle(toolbar) {
  const title = $("scene-title");
  if (!title) return;
  toolbar.classList.remove("no-title");
  const overflows =
    title.scrollWidth > title.clientWidth + 1 || title.scrollHeight > title.clientHeight + 1;
  toolbar.classList.toggle("no-title", overflows || title.clientWidth < 60);
}

/** Re-decide on every resize and on the state changes that change the plot's shape. */
export function bindLayout() {
  const keys = new Set([
    "inspect",
    "presentation",
    "mode",
    "view",
    "landscape",
    "bounds", // a typed function's bounds set the plot's aspect
    "optimizers",
    "lang",
    "show",
    "preset",
    "stage", // the maps' toolbar hides playback: the title's room changes
  ]);
  // After the state's other listeners ran (they set the body's classes this reads).
  subscribe((changed) => {
    if ([...changed].some((k) => keys.has(k))) queueMicrotask(applyLayout);
  });
  const observer = new ResizeObserver(() => applyLayout());
  observer.observe($("stage"));
  observer.observe($("stage").querySelector(".toolbar"));
  // The Race/Maps switch takes its words after this ran (maps.js): the title's room changes.
  const stageSwitch = $("stage-switch");
  if (stageSwitch) observer.observe(stageSwitch);
  // The ηₜ chart appears with a schedule (lr_view.js, after this ran): "split" has no room.
  // (Only a real change: lr_view.js sets `hidden` on every render, to the same value.)
  let lrHidden = $("lr-plot").hidden;
  new MutationObserver(() => {
    if ($("lr-plot").hidden === lrHidden) return;
    lrHidden = $("lr-plot").hidden;
    applyLayout();
  }).observe($("lr-plot"), {
    attributes: true,
    attributeFilter: ["hidden"],
  });
  queueMicrotask(applyLayout);
}
