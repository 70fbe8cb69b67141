// The runs' legend as HTML: each run's colour, line and marker shape (the shape the server
// gives it, app/palette.py). HTML rather than Plotly's legend so it wraps into as many rows
// as the width needs and the chart reserves exactly their height below the plot: it can't
// be cut off at the top or slide under Plotly's toolbar (top right).

/** Corners of a regular polygon of `n` sides and radius `r`, the first at angle `start`. */
function polygon(n, r, start) {
  const pts = [];
  for (let i = 0; i < n; i += 1) {
    const a = start + (2 * Math.PI * i) / n;
    pts.push(`${(r * Math.cos(a)).toFixed(2)},${(r * Math.sin(a)).toFixed(2)}`);
  }
  return pts.join(" ");
}

const UP = -Math.PI / 2;

/** An SVG element (string) drawing Plotly's marker `symbol` of radius r around (0, 0). */
export function symbolShape(symbol, r, fill, stroke) {
  const paint = `fill="${fill}" stroke="${stroke}" stroke-width="1.2"`;
  const poly = (n, start, scale = 1) =>
    `<polygon points="${polygon(n, r * scale, start)}" ${paint}/>`;
  switch (symbol) {
    case "square":
      return `<rect x="${-r * 0.85}" y="${-r * 0.85}" width="${r * 1.7}" height="${r * 1.7}" ${paint}/>`;
    case "diamond":
      return poly(4, UP, 1.1);
    case "triangle-up":
      return poly(3, UP, 1.15);
    case "triangle-down":
      return poly(3, -UP, 1.15);
    case "triangle-left":
      return poly(3, Math.PI, 1.15);
    case "triangle-right":
      return poly(3, 0, 1.15);
    case "pentagon":
      return poly(5, UP, 1.05);
    case "hexagon":
      return poly(6, 0, 1.05);
    case "cross": {
      const a = r * 0.35;
      const b = r;
      const d = `M${-a},${-b}H${a}V${-a}H${b}V${a}H${a}V${b}H${-a}V${a}H${-b}V${-a}H${-a}Z`;
      return `<path d="${d}" ${paint}/>`;
    }
    case "hourglass":
    case "bowtie": {
      // Two triangles meeting at the centre, apart top and bottom (hourglass) or sideways.
      const a = r * 0.95;
      const d =
        symbol === "hourglass"
          ? `M${-a},${-a}L${a},${-a}L${-a},${a}L${a},${a}Z`
          : `M${-a},${-a}L${-a},${a}L${a},${-a}L${a},${a}Z`;
      return `<path d="${d}" ${paint}/>`;
    }
    default:
      return `<circle r="${r}" ${paint}/>`;
  }
}

const escapeHTML = (text) =>
  String(text).replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c],
  );

// On/off lengths of Plotly's line.dash names in units of max(line width, 3) px, as Plotly
// draws the paths (app/palette.py DASH_PATTERNS has the same for the exports).
const DASH_UNITS = {
  dot: [1, 1],
  dash: [3, 3],
  longdash: [5, 5],
  dashdot: [3, 1, 1, 1],
  longdashdot: [5, 2, 1, 2],
};

/** SVG stroke-dasharray of a Plotly dash name on a line `width` px wide ("" is solid). */
export function dashArray(dash, width) {
  const units = DASH_UNITS[dash];
  const unit = Math.max(width, 3);
  return units ? units.map((u) => u * unit).join(" ") : "";
}

/** A run's key: a stretch of path in its colour and dash running into its head (its marker
 * shape at the right end), as the run looks on the plot; the dashes before the head show. */
export function runKey(run, size) {
  const w = Math.round(size * 2.6);
  const h = Math.round(size * 1.2);
  const r = size * 0.42;
  const width = Math.max(2, size / 6);
  const dashes = dashArray(run.dash, width);
  const dashAttr = dashes ? ` stroke-dasharray="${dashes}"` : "";
  const head = w / 2 - r * 1.2 - 1; // the widest shape (a triangle) stays inside the key
  return `<svg class="legend-key" width="${w}" height="${h}" viewBox="${-w / 2} ${-h / 2} ${w} ${h}" aria-hidden="true">
    <line x1="${-w / 2}" x2="${head.toFixed(2)}" y1="0" y2="0" stroke="${run.color}" stroke-width="${width}"${dashAttr}/>
    <g transform="translate(${head.toFixed(2)} 0)">${symbolShape(run.symbol, r, run.color, "#ffffff")}</g></svg>`;
}

/**
 * Fill `el` with one entry per run (only when the runs or the theme changed) and return its
 * height in pixels, for the chart's bottom margin.
 */
export function renderLegend(el, runs, th) {
  const key = JSON.stringify([
    runs.map((r) => [r.title, r.color, r.symbol, r.dash]),
    th.font,
    th.text,
  ]);
  if (el.dataset.key !== key) {
    el.dataset.key = key;
    Object.assign(el.style, {
      position: "absolute",
      left: "0",
      right: "0",
      bottom: "0",
      display: "flex",
      flexWrap: "wrap",
      justifyContent: "center",
      columnGap: `${Math.round(th.font * 1.1)}px`,
      rowGap: "2px",
      padding: "2px 6px 4px",
      font: `${th.font}px ${th.fontFamily}`,
      color: th.text,
      pointerEvents: "none",
      zIndex: "2",
    });
    el.innerHTML = runs
      .map(
        (run) =>
          `<span class="legend-item" data-optimizer="${escapeHTML(run.optimizer)}" data-symbol="${escapeHTML(run.symbol)}" data-dash="${escapeHTML(run.dash || "solid")}" style="display:inline-flex;align-items:center;gap:4px;white-space:nowrap">${runKey(run, th.font)}<span class="legend-name">${escapeHTML(run.title)}</span></span>`,
      )
      .join("");
  }
  el.hidden = runs.length === 0;
  return runs.length ? el.offsetHeight : 0;
}
