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
  if (!map || !dots?.points.length) return;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.save();
  ctx.beginPath();
  ctx.rect(map.left, map.top, map.width, map.height);
  ctx.clip();
  ctx.lineWidth = 0.8;
  ctx.strokeStyle = dots.outline;
  const r = dots.size / 2;
  for (const p of dots.points) {
    symbolPath(ctx, p.symbol, map.x(p.x), map.y(p.y), r);
    ctx.fillStyle = p.color;
    ctx.fill();
    ctx.stroke();
  }
  ctx.restore();
}
