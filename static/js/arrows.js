// Arrows at the cursor (issue 12): for each run shown from inside, the negative gradient
// −gₜ, the momentum buffer (negated, so it points the way it pushes) and the step actually
// taken θₜ₊₁ − θₜ, from θₜ. Drawn on a canvas over the paths, like the step dots: moving the
// cursor or animating a step redraws the canvas, never Plotly.
//
// Scale: the arrows of one kind share a scale, set so that kind's typical length
// (inside_math.js typicalLengths) is TYPICAL of the plot's smaller side, so lengths compare
// across steps and runs; an arrow is clamped to MAX of that side. The step is drawn true
// to scale when that is readable (it then ends on θₜ₊₁). An arrow that would be shorter
// than MIN_DRAWN is drawn that long (a zero vector not at all). The legend (inside.js)
// gives every arrow's true length and the scale it is drawn at.

import { clearOverlay } from "./dots.js";
import { getCatalog } from "./state.js";

const TYPICAL = 0.18;
const MAX = 0.35;
// px: a shorter arrow (near a minimum the gradient fades) is drawn this long, its
// direction kept, so it stays readable; the legend gives its true length.
const MIN_DRAWN = 18;

/** {color, dash, width} of an arrow kind: app/palette.py's, served in /api/settings, so the
 * page and the exports draw alike. */
export function arrowStyle(kind) {
  return getCatalog().settings.colors.arrows[kind];
}

/** Data units drawn per unit of each kind, for a plot area of `map` (dataToPixels). */
export function arrowScales(map, typical) {
  const unit = Math.abs(map.x(1) - map.x(0)); // px per data unit (equal-scale axes)
  const side = Math.sqrt(map.width * map.height); // a wide plot has room along its length
  const scales = {};
  for (const [kind, length] of Object.entries(typical)) {
    if (!(length > 0) || !(unit > 0)) {
      scales[kind] = 1;
      continue;
    }
    const fit = (TYPICAL * side) / (length * unit);
    // The real step when it is long enough to read; else magnified like the others.
    scales[kind] = kind === "step" && length * unit >= 0.05 * side ? 1 : niceScale(fit);
  }
  return scales;
}

/** The round factor (1, 2, 5 × 10ᵏ) nearest `x` (in ratio), so the legend's "×50" reads
 * easily. */
export function niceScale(x) {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const decade = 10 ** Math.floor(Math.log10(x));
  let best = decade;
  for (const m of [1, 2, 5, 10]) {
    if (Math.abs(Math.log(m * decade) - Math.log(x)) < Math.abs(Math.log(best) - Math.log(x))) {
      best = m * decade;
    }
  }
  return Number(best.toPrecision(1));
}

function arrowHead(ctx, x0, y0, x1, y1, size) {
  const a = Math.atan2(y1 - y0, x1 - x0);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - size * Math.cos(a - 0.42), y1 - size * Math.sin(a - 0.42));
  ctx.lineTo(x1 - size * Math.cos(a + 0.42), y1 - size * Math.sin(a + 0.42));
  ctx.closePath();
}

/**
 * Draw `spec` ({items: arrowsAt(...) of the runs, typical, presentation, progress}) on
 * `canvas` over chart `gd` (`box` its CSS size). `progress` f ∈ [0, 1] moves every arrow's
 * tail along its run's step (θₜ + f·Δθ): the step-by-step animation. The drawn arrows are
 * kept as `canvas.arrows` (pixels, true lengths and scales), for the legend and the tests.
 */
export function drawArrows(canvas, gd, spec, box) {
  const { map, ctx, ratio } = clearOverlay(canvas, gd, box);
  canvas.arrows = [];
  if (!map || !spec?.items.length) return;
  const scales = arrowScales(map, spec.typical);
  const side = Math.sqrt(map.width * map.height); // a wide plot has room along its length
  const unit = Math.abs(map.x(1) - map.x(0));
  const big = spec.presentation ? 1.5 : 1;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.save();
  ctx.beginPath();
  ctx.rect(map.left, map.top, map.width, map.height);
  ctx.clip();
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  const f = spec.progress ?? 0;
  // The step last (on top): it is the answer the other two explain.
  const order = { momentum: 0, grad: 1, step: 2 };
  const items = [...spec.items].sort((a, b) => order[a.kind] - order[b.kind]);
  for (const a of items) {
    const style = arrowStyle(a.kind);
    const shift = spec.steps?.[a.optimizer] ?? [0, 0];
    const from = [a.from[0] + f * shift[0], a.from[1] + f * shift[1]];
    const k = scales[a.kind] ?? 1;
    let dx = a.vec[0] * k * unit;
    let dy = -a.vec[1] * k * unit; // screen y grows downward
    let px = Math.hypot(dx, dy);
    const clamped = px > MAX * side;
    const floored = px > 0 && px < MIN_DRAWN;
    if (clamped || floored) {
      const to = clamped ? MAX * side : MIN_DRAWN;
      dx *= to / px;
      dy *= to / px;
      px = to;
    }
    const x0 = map.x(from[0]);
    const y0 = map.y(from[1]);
    const x1 = x0 + dx;
    const y1 = y0 + dy;
    canvas.arrows.push({
      kind: a.kind,
      optimizer: a.optimizer,
      update: a.update,
      from: [x0, y0],
      to: [x1, y1],
      pixels: px,
      length: a.length,
      vec: a.vec,
      scale: k,
      clamped,
      floored,
      pxPerUnit: unit,
    });
    if (!(px > 0) || !Number.isFinite(px)) continue;
    const w = style.width * big;
    const head = Math.min(px * 0.6, (a.kind === "step" ? 11 : 10) * big);
    for (const pass of ["halo", "ink"]) {
      ctx.strokeStyle = pass === "halo" ? "rgba(0,0,0,0.85)" : style.color;
      ctx.fillStyle = ctx.strokeStyle;
      ctx.lineWidth = pass === "halo" ? w + 2.5 : w;
      // The shaft stops at the head's base, so the tip stays sharp.
      const a0 = Math.atan2(dy, dx);
      const sx = x1 - Math.cos(a0) * head * 0.8;
      const sy = y1 - Math.sin(a0) * head * 0.8;
      ctx.setLineDash(pass === "ink" ? style.dash.map((d) => d * big) : []);
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(sx, sy);
      ctx.stroke();
      ctx.setLineDash([]);
      arrowHead(ctx, x0, y0, x1, y1, head);
      if (pass === "halo") {
        ctx.lineWidth = 2.5;
        ctx.stroke();
      }
      ctx.fill();
    }
  }
  ctx.restore();
}
