// Step dots on a canvas over the paths. Plotly draws each marker as its
// own styled SVG element, about 0.1 ms apiece on a lecture-hall laptop: six runs' dots made
// a slider redraw 20 ms slower. A canvas draws them all in well under a millisecond. The
// dots use the run's marker shape (the server's, app/palette.py) as the heads and legend do.

import { dataToPixels } from "./plotly_adapter.js";

/** Trace Plotly's marker `symbol` of radius r around (x, y) as a canvas path. */
function symbolPath(ctx, symbol, x, y, r) {
  const polygon = (n, start, scale) => {
    for (let i = 0; i < n; i += 1) {
      const a = start + (2 * Math.PI * i) / n;
      const px = x + r * scale * Math.cos(a);
      const py = y + r * scale * Math.sin(a);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    }
    ctx.closePath();
  };
  const up = -Math.PI / 2;
  ctx.beginPath();
  switch (symbol) {
    case "square":
      ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
      break;
    case "diamond":
      polygon(4, up, 1.1);
      break;
    case "triangle-up":
      polygon(3, up, 1.15);
      break;
    case "triangle-down":
      polygon(3, -up, 1.15);
      break;
    case "triangle-left":
      polygon(3, Math.PI, 1.15);
      break;
    case "triangle-right":
      polygon(3, 0, 1.15);
      break;
    case "pentagon":
      polygon(5, up, 1.05);
      break;
    case "hexagon":
      polygon(6, 0, 1.05);
      break;
    case "cross": {
      const a = r * 0.35;
      ctx.moveTo(x - a, y - r);
      for (const [dx, dy] of [
        [a, -r],
        [a, -a],
        [r, -a],
        [r, a],
        [a, a],
        [a, r],
        [-a, r],
        [-a, a],
        [-r, a],
        [-r, -a],
        [-a, -a],
      ]) {
        ctx.lineTo(x + dx, y + dy);
      }
      ctx.closePath();
      break;
    }
    case "hourglass":
    case "bowtie": {
      // Two triangles meeting at the centre, apart top and bottom (hourglass) or sideways.
      const a = r * 0.95;
      const corners = [
        [-a, -a],
        [a, -a],
        [-a, a],
        [a, a],
      ];
      corners.forEach(([cx, cy], i) => {
        const [dx, dy] = symbol === "bowtie" ? [cy, cx] : [cx, cy];
        if (i === 0) ctx.moveTo(x + dx, y + dy);
        else ctx.lineTo(x + dx, y + dy);
      });
      ctx.closePath();
      break;
    }
    default:
      ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
}

/**
 * Draw `dots` ({size, outline, points: [{x, y, color, symbol}]}) on `canvas` (`box`: its
 * CSS size, measured by the caller before Plotly drew: reading it back after would force a
 * layout of the whole page) at the data positions of chart `gd`, clipped to its plot area.
 * The canvas keeps the dots as `canvas.dots` (the browser tests read them).
 */
/**
 * A canvas over chart `gd` (`box` its CSS size) sized for the screen's pixel ratio and
 * cleared: {map (dataToPixels, null before the first draw), ctx, ratio}. The step dots and
 * the arrows at the cursor (arrows.js) are drawn on such canvases.
 */
export function clearOverlay(canvas, gd, box) {
  const map = dataToPixels(gd);
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(box.width * ratio);
  const height = Math.round(box.height * ratio);
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { map, ctx, ratio };
}

export function drawDots(canvas, gd, dots, box) {
  canvas.dots = dots;
  const { map, ctx, ratio } = clearOverlay(canvas, gd, box);
  if (!map || !(dots?.points.length || dots?.samples?.length)) return;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.save();
  ctx.beginPath();
  ctx.rect(map.left, map.top, map.width, map.height);
  ctx.clip();
  const populations = dots.samples?.filter((s) => s.kind === "population") ?? [];
  const proposals = dots.samples?.filter((s) => s.kind === "proposal") ?? [];
  // The population under the step dots (it is many points), the proposals above them.
  drawPopulations(ctx, map, populations, dots);
  ctx.lineWidth = 0.8;
  ctx.strokeStyle = dots.outline;
  const r = dots.size / 2;
  for (const p of dots.points) {
    symbolPath(ctx, p.symbol, map.x(p.x), map.y(p.y), r);
    ctx.fillStyle = p.color;
    ctx.fill();
    ctx.stroke();
  }
  drawProposals(ctx, map, proposals, dots);
  ctx.restore();
}

// ------------------------------------------------------------------ gradient-free samples
// What a gradient-free run evaluated to reach the point at the cursor (the server's
// `samples`, runs.js): the genetic algorithm's generation as small dots in the run's colour,
// annealing's proposal as a hollow marker joined to the chain's point by a dotted segment,
// grey where the chain did not move there (the proposal was rejected).

/** A gradient-free run's samples at point `at`: those of the nearest kept point ≤ at (the
 * server keeps every k-th point's when a run is long): {step, points (flat x, y)}, or null. */
export function samplesAt(run, at) {
  if (!run.samples || !run.n) return null;
  for (let i = Math.min(at, run.n - 1); i >= 0; i -= 1) {
    if (run.samples[i]) return { step: i, points: run.samples[i] };
  }
  return null;
}

const REJECTED = "#8c959f";

function drawPopulations(ctx, map, populations, dots) {
  const r = dots.presentation ? 4 : 3;
  for (const s of populations) {
    ctx.beginPath();
    for (let i = 0; i < s.points.length; i += 2) {
      const x = map.x(s.points[i]);
      const y = map.y(s.points[i + 1]);
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, 2 * Math.PI);
    }
    // a halo in the page's outline colour keeps the dots apart from a contour of their hue,
    // then the run's colour: the fill at 0.6, its edge whole
    ctx.globalAlpha = 0.7;
    ctx.lineWidth = 2.4;
    ctx.strokeStyle = dots.outline;
    ctx.stroke();
    ctx.globalAlpha = 0.6;
    ctx.fillStyle = s.color;
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.lineWidth = 1;
    ctx.strokeStyle = s.color;
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
}

/** Whether annealing's chain took its proposal: the point it is at is the proposal. */
export function accepted(sample) {
  return sample.points[0] === sample.head[0] && sample.points[1] === sample.head[1];
}

function drawProposals(ctx, map, proposals, dots) {
  for (const s of proposals) {
    const taken = accepted(s);
    const x = map.x(s.points[0]);
    const y = map.y(s.points[1]);
    const color = taken ? s.color : REJECTED;
    // taken: a ring around the head (the head is the proposal); rejected: a marker of the
    // head's size where the chain did not go
    const r = taken ? dots.size * 0.67 + 3 : dots.size / 2 + 1;
    if (!taken) {
      // the thin dotted segment from the chain's point to the point it tried, on a halo
      const width = dots.presentation ? 2 : 1.2;
      const from = [map.x(s.head[0]), map.y(s.head[1])];
      ctx.save();
      for (const [w, stroke, dash, alpha] of [
        [width + 2, dots.outline, [], 0.45],
        [width, dots.presentation ? "#d0d7de" : "#57606a", [2, 3], 1],
      ]) {
        ctx.setLineDash(dash);
        ctx.lineWidth = w;
        ctx.strokeStyle = stroke;
        ctx.globalAlpha = alpha;
        ctx.beginPath();
        ctx.moveTo(from[0], from[1]);
        ctx.lineTo(x, y);
        ctx.stroke();
      }
      ctx.restore();
    }
    // hollow: a halo in the outline colour, then the run's colour (grey if rejected)
    for (const [width, stroke] of [
      [dots.presentation ? 5 : 4, dots.outline],
      [dots.presentation ? 2.5 : 1.8, color],
    ]) {
      symbolPath(ctx, s.symbol, x, y, r);
      ctx.lineWidth = width;
      ctx.strokeStyle = stroke;
      ctx.stroke();
    }
    if (!taken) {
      const a = r * 0.55;
      ctx.beginPath();
      ctx.moveTo(x - a, y - a);
      ctx.lineTo(x + a, y + a);
      ctx.moveTo(x + a, y - a);
      ctx.lineTo(x - a, y + a);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = REJECTED;
      ctx.stroke();
    }
  }
}
